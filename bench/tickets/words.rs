//! The small vocabulary the generator builds subjects and message bodies from: what an ISP's
//! support and NOC staff and their customers actually write, with slots for sites, hosts and
//! numbers so that no two tickets read the same. The full-text queries of the benchmark search
//! for words and phrases that occur here with known, different frequencies.

use rand::Rng;
use rand::seq::IndexedRandom;

pub const SITES: &[&str] = &[
    "Amsterdam POP",
    "Frankfurt DC2",
    "Zurich",
    "Vienna",
    "Lyon edge",
    "Milan",
    "Oslo",
    "Prague",
    "Warsaw",
    "Brussels",
    "Lisbon",
    "Dublin",
    "Madrid DC1",
    "Helsinki",
    "Copenhagen",
    "Budapest",
];

const SERVICES: &[&str] = &[
    "shared hosting",
    "the mail platform",
    "the VoIP trunk",
    "managed firewall",
    "the object storage",
    "the DNS service",
    "colocation power feed",
    "the customer portal",
];

const CHECKS: &[&str] = &[
    "PING",
    "HTTP",
    "SSH",
    "Disk /var",
    "Load average",
    "BGP peer",
    "Interface errors",
    "Certificate expiry",
];

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const FIRST: &[&str] = &[
    "anna", "ben", "carla", "david", "eva", "felix", "greta", "hugo", "ines", "jonas", "karin",
    "lars", "maria", "nils", "olga", "paul", "rosa", "sven", "tina", "urs",
];

const ROLE_MAILBOXES: &[&str] = &["noc", "it", "support", "admin", "office", "ops"];

/// Subject templates; `{site}`, `{host}`, `{asn}`, `{ip}`, `{domain}`, `{svc}`, `{check}`,
/// `{month}`, `{bw}` are filled in. The benchmark searches `Subject LIKE 'latency'`, `'BGP'`
/// and `'Prague'`.
const SUBJECTS: &[&str] = &[
    "Packet loss on uplink to {site}",
    "High latency to {site} from customer LAN",
    "BGP session down with AS{asn}",
    "BGP flapping on {host}",
    "DNS resolution failing for {domain}",
    "Slow DNS answers from resolver {ip}",
    "Fiber cut near {site}",
    "Outage: no connectivity at {site}",
    "Partial outage of {svc}",
    "VPN tunnel to {site} keeps dropping",
    "Email bounces from {domain}",
    "Invoice question for {month}",
    "Request: additional static IPv4 block",
    "Request: reverse DNS for {ip}",
    "SSL certificate expiring on {host}",
    "Disk almost full on {host}",
    "Backup job failed on {host}",
    "Website {domain} returns 502",
    "Cannot log in to the customer portal",
    "Port change request for {host}",
    "Upgrade bandwidth to {bw} Mbit/s",
    "Spam complaint about {ip}",
    "DDoS traffic towards {ip}",
    "Router {host} unreachable",
    "Question about the planned maintenance window",
    "MTU problems on PPPoE line",
    "Wi-Fi drops at the {site} office",
    "Slow throughput on {svc}",
    "Jitter and latency on the VoIP trunk",
    "New contact person for our account",
];

const ALERT_SUBJECTS: &[&str] = &[
    "CRITICAL: {check} on {host}",
    "WARNING: {check} on {host}",
    "DOWN: {host} is unreachable",
];

/// What customers write when they open a ticket or answer.
const CUSTOMER: &[&str] = &[
    "Since this morning we see packet loss of around {pct}% on our line.",
    "Our users complain that the connection is very slow in the afternoon.",
    "The router shows the WAN link as down and the LED is red.",
    "We already rebooted the modem twice without any change.",
    "Please check the traceroute below, the latency jumps at hop {n}.",
    "This affects our whole office of {n} people.",
    "Can you tell us when the outage will be fixed?",
    "Our website {domain} is not reachable from outside since {hh}:{mm}.",
    "We did not change anything on our side.",
    "Mail to our domain bounces with a 550 error.",
    "Please send us the invoice again, the PDF attachment is empty.",
    "Could you add a reverse DNS entry for our new server at {ip}?",
    "We would like to upgrade our contract to the next bandwidth tier.",
    "The VPN to our branch in {site} disconnects every few minutes.",
    "Calls on the VoIP trunk are choppy and sometimes drop.",
    "Is there planned maintenance tonight? We noticed a short interruption.",
    "Our monitoring reports the server {host} as unreachable.",
    "Thanks, it works again on our side.",
    "The problem is back since yesterday evening.",
    "We measured a throughput of only {bw} Mbit/s instead of the contracted bandwidth.",
];

/// What staff answer (correspondence the customer sees). `Content LIKE 'rebooted the CPE'`
/// and `'SFP module'` search these.
const STAFF: &[&str] = &[
    "Thank you for your report, we are looking into it.",
    "We rebooted the CPE remotely and the line came back up.",
    "Our monitoring confirms packet loss on the upstream link; the carrier has been informed.",
    "The BGP session was reset and routes are announced again.",
    "A technician is scheduled to visit the site on {day} morning.",
    "Could you please send us a traceroute and a ping from your side?",
    "We replaced the faulty SFP module on the aggregation switch in {site}.",
    "The reverse DNS entry has been added; it may take up to an hour to propagate.",
    "The resolver cache was flushed and DNS answers are normal again.",
    "We increased the MTU on the tunnel interface to 1500.",
    "Please confirm that the problem is solved so we can close this ticket.",
    "The invoice has been sent again to the billing contact.",
    "We see no errors on our side; the line is in sync at full speed.",
    "The certificate on {host} has been renewed.",
    "The maintenance window is scheduled for {day} between 01:00 and 05:00.",
    "We moved your port to a new line card; please check the connectivity.",
    "The DDoS mitigation is active for {ip} and the traffic is scrubbed.",
    "Your bandwidth upgrade to {bw} Mbit/s is active from now on.",
];

/// Internal notes between staff. Mention reference numbers such as `CR-12345`.
const NOTES: &[&str] = &[
    "Checked the interface counters on {host}, CRC errors are increasing.",
    "Escalated to the carrier, their reference is CR-{ref}.",
    "Looks like the same issue as last month, see the runbook.",
    "Customer is on the legacy platform; migration is planned.",
    "Graphs show saturation of the uplink between 18:00 and 22:00.",
    "No alarms on the OLT, probably an issue inside the customer premises.",
    "Waiting for the report of the field engineer.",
    "Spoke to the customer on the phone, they will test again tonight.",
    "Packet loss only on the backup path, primary path is clean.",
    "Opened a case with the vendor about the SFP module failures.",
];

const DAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];

fn pick<'a, R: Rng>(rng: &mut R, list: &'a [&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or("")
}

/// Fills the `{slot}`s of a template.
fn fill<R: Rng>(rng: &mut R, template: &str, out: &mut String) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let slot = &rest[open + 1..open + close];
        match slot {
            "site" => out.push_str(pick(rng, SITES)),
            "host" => {
                let kind = pick(rng, &["sw", "rt", "fw", "srv", "olt"]);
                let site = pick(
                    rng,
                    &["ams", "fra", "zrh", "vie", "lys", "mil", "osl", "prg"],
                );
                out.push_str(&format!(
                    "{kind}{}.{site}.isp.example",
                    rng.random_range(1..40)
                ));
            }
            "asn" => out.push_str(&rng.random_range(1000..65000).to_string()),
            "ip" => out.push_str(&format!(
                "198.51.{}.{}",
                rng.random_range(0..=255),
                rng.random_range(1..255)
            )),
            "domain" => out.push_str(&format!("c{:04}.example", rng.random_range(0..5000))),
            "svc" => out.push_str(pick(rng, SERVICES)),
            "check" => out.push_str(pick(rng, CHECKS)),
            "month" => out.push_str(pick(rng, MONTHS)),
            "bw" => out.push_str(pick(rng, &["100", "250", "500", "1000", "10000"])),
            "pct" => out.push_str(&rng.random_range(2..40).to_string()),
            "n" => out.push_str(&rng.random_range(3..60).to_string()),
            "hh" => out.push_str(&format!("{:02}", rng.random_range(0..24))),
            "mm" => out.push_str(&format!("{:02}", rng.random_range(0..60))),
            "day" => out.push_str(pick(rng, DAYS)),
            "ref" => out.push_str(&rng.random_range(10000..100000).to_string()),
            _ => out.push_str(slot),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
}

pub fn subject<R: Rng>(rng: &mut R, alert: bool) -> String {
    let mut s = String::with_capacity(64);
    let t = pick(rng, if alert { ALERT_SUBJECTS } else { SUBJECTS });
    fill(rng, t, &mut s);
    s
}

/// Which voice a message body is written in.
#[derive(Debug, Clone, Copy)]
pub enum Voice {
    Customer,
    Staff,
    Note,
}

/// A body of `min..=max` sentences in one voice; a blank line now and then, as in mail.
pub fn body<R: Rng>(rng: &mut R, voice: Voice, min: usize, max: usize) -> String {
    let list = match voice {
        Voice::Customer => CUSTOMER,
        Voice::Staff => STAFF,
        Voice::Note => NOTES,
    };
    let n = rng.random_range(min..=max);
    let mut s = String::with_capacity(n * 70);
    if matches!(voice, Voice::Staff) {
        s.push_str("Hello,\n\n");
    }
    for i in 0..n {
        if i > 0 {
            s.push(if rng.random_bool(0.25) { '\n' } else { ' ' });
        }
        let sentence = pick(rng, list);
        fill(rng, sentence, &mut s);
    }
    if matches!(voice, Voice::Staff) {
        s.push_str("\n\nBest regards,\nNOC team");
    }
    s
}

/// A requestor address at a customer's domain: a person or a role mailbox.
pub fn requestor<R: Rng>(rng: &mut R, customer: usize) -> String {
    if rng.random_bool(0.3) {
        format!("{}@c{customer:04}.example", pick(rng, ROLE_MAILBOXES))
    } else {
        format!("{}@c{customer:04}.example", pick(rng, FIRST))
    }
}
