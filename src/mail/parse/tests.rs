use super::*;

fn p(raw: &str) -> Inbound {
    parse(raw.as_bytes()).expect("parses")
}

#[test]
fn a_plain_message_gives_its_people_ids_and_text() {
    let m = p(concat!(
        "From: \"Ann Example\" <Ann@Acme.Example>\r\n",
        "To: support@example.net\r\n",
        "Cc: bob@acme.example, support@example.net\r\n",
        "Reply-To: noc@acme.example\r\n",
        "Subject: Re: [example.net #12] BGP\r\n",
        "Message-ID: <abc@mx.acme.example>\r\n",
        "In-Reply-To: <out-1@example.net>\r\n",
        "References: <a@x> <out-1@example.net>\r\n",
        "\r\n",
        "Hello\r\nsecond line\r\n",
    ));
    assert_eq!(m.message_id, "abc@mx.acme.example");
    assert!(!m.synthetic_id);
    assert_eq!(m.from.as_ref().unwrap().address, "ann@acme.example");
    assert_eq!(
        m.from.as_ref().unwrap().name.as_deref(),
        Some("Ann Example")
    );
    assert_eq!(m.reply_to[0].address, "noc@acme.example");
    assert_eq!(m.cc.len(), 2);
    assert_eq!(m.in_reply_to, ["out-1@example.net"]);
    assert_eq!(m.references, ["a@x", "out-1@example.net"]);
    assert_eq!(m.subject, "Re: [example.net #12] BGP");
    assert_eq!(m.body, "Hello\nsecond line");
    assert!(m.parts.is_empty());
}

#[test]
fn a_message_without_message_id_gets_a_stable_one() {
    let raw = "From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n";
    let a = p(raw);
    let b = p(raw);
    assert!(a.synthetic_id);
    assert_eq!(a.message_id, b.message_id);
    let c = p("From: a@b.example\r\nSubject: y\r\n\r\nbody\r\n");
    assert_ne!(a.message_id, c.message_id);
}

#[test]
fn encoded_words_and_charsets_are_decoded() {
    let m = p(concat!(
        "From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>\r\n",
        "Subject: =?UTF-8?B?U3TDtnJ1bmcgaW0gTmV0eg==?=\r\n",
        "Content-Type: text/plain; charset=iso-8859-1\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "\r\n",
        "Gr=FC=DFe aus K=F6ln\r\n",
    ));
    assert_eq!(m.from.unwrap().name.as_deref(), Some("Jörg"));
    assert_eq!(m.subject, "Störung im Netz");
    assert_eq!(m.body, "Grüße aus Köln");
}

#[test]
fn html_only_mail_becomes_text_and_keeps_the_original() {
    let m = p(concat!(
        "From: a@b.example\r\n",
        "Subject: html\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "\r\n",
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>",
        "<body><p>Link &amp; sync <b>down</b></p><div>since 10:00&nbsp;UTC</div></body></html>\r\n",
    ));
    assert!(m.from_html);
    assert_eq!(
        m.body, "Link & sync down\n\nsince 10:00 UTC",
        "blocks keep one blank line"
    );
    assert!(!m.body.contains("alert"), "script text is not text");
    assert_eq!(m.parts.len(), 1);
    assert_eq!(m.parts[0].content_type, "text/html");
}

#[test]
fn attachments_and_nested_messages_are_parts() {
    let m = p(concat!(
        "From: a@b.example\r\n",
        "Subject: files\r\n",
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
        "\r\n",
        "--b\r\n",
        "Content-Type: text/plain\r\n",
        "\r\n",
        "see attached\r\n",
        "--b\r\n",
        "Content-Type: application/pdf; name=\"report.pdf\"\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        "JVBERi0xLjQK\r\n",
        "--b\r\n",
        "Content-Type: message/rfc822\r\n",
        "\r\n",
        "From: c@d.example\r\nSubject: inner\r\n\r\ninner body\r\n",
        "--b\r\n",
        "Content-Type: application/ms-tnef\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        "eJ8+IhAA\r\n",
        "--b--\r\n",
    ));
    assert_eq!(m.body, "see attached");
    let names: Vec<&str> = m.parts.iter().map(|p| p.filename.as_str()).collect();
    assert_eq!(names, ["report.pdf", "message-2.eml", "winmail.dat"]);
    assert_eq!(m.parts[0].data(), b"%PDF-1.4\n");
    assert_eq!(m.parts[1].content_type, "message/rfc822");
}

#[test]
fn machine_marks_are_read() {
    let m = p(concat!(
        "From: MAILER-DAEMON@mx.example\r\n",
        "Auto-Submitted: auto-replied\r\n",
        "Precedence: Bulk\r\n",
        "List-Id: <noc.lists.example>\r\n",
        "Return-Path: <>\r\n",
        "X-Opsdesk-Loop: example.net\r\n",
        "Subject: away\r\n\r\nI am away\r\n",
    ));
    assert_eq!(m.auto_submitted.as_deref(), Some("auto-replied"));
    assert_eq!(m.precedence.as_deref(), Some("bulk"));
    assert!(m.list_id);
    assert_eq!(m.return_path.as_deref(), Some(""));
    assert!(m.loop_guard);
}

#[test]
fn a_dsn_names_the_message_it_returns() {
    let m = p(concat!(
        "From: MAILER-DAEMON@mx.example\r\n",
        "Subject: Undelivered Mail Returned to Sender\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n",
        "\r\n",
        "--r\r\n",
        "Content-Type: text/plain\r\n\r\nThis is the mail system.\r\n",
        "--r\r\n",
        "Content-Type: message/delivery-status\r\n\r\n",
        "Reporting-MTA: dns; mx.example\r\n\r\n",
        "Final-Recipient: rfc822; gone@acme.example\r\n",
        "Action: failed\r\n",
        "Status: 5.1.1\r\n",
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n",
        "--r\r\n",
        "Content-Type: text/rfc822-headers\r\n\r\n",
        "Message-ID: <out-7@example.net>\r\n",
        "Subject: [example.net #7] Your ticket\r\n",
        "--r--\r\n",
    ));
    let dsn = m.dsn.expect("a DSN");
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("out-7@example.net")
    );
    assert_eq!(
        dsn.original_subject.as_deref(),
        Some("[example.net #7] Your ticket")
    );
    assert!(dsn.summary.contains("5.1.1"), "{}", dsn.summary);
    assert!(dsn.summary.contains("gone@acme.example"));
}

#[test]
fn garbage_never_panics() {
    for raw in [
        &b""[..],
        b"\xff\xfe\x00",
        b"From:\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--",
        b"Subject: =?utf-8?B?!!!?=\r\n\r\n",
        // Found by the fuzzer: mail-parser's multipart walk asserts in debug builds.
        include_bytes!("../../../tests/mail_corpus/71-fuzzer-multipart-part-id.eml"),
    ] {
        let _ = parse(raw);
    }
}

#[test]
fn entities_and_tags_come_out_of_html() {
    assert_eq!(
        html_to_text("a &lt;b&gt; &#233; &#xe9; &bogus; &"),
        "a <b> é é &bogus; &"
    );
    assert_eq!(html_to_text("x<br>y<p>z</p>"), "x\ny\nz");
    assert_eq!(html_to_text("<a href='x'>unclosed"), "unclosed");
    assert_eq!(html_to_text("tail <b"), "tail");
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    /// Pieces of real headers and MIME structure, so random soups reach deep into the parser.
    const FRAGMENTS: [&str; 24] = [
        "From: a@b.example\r\n",
        "From: =?utf-8?B?w6k=?= <x@y.example>\r\n",
        "Subject: =?iso-8859-1?Q?=E9t=E9?=\r\n",
        "Message-ID: <m@x>\r\n",
        "Message-ID: <>\r\n",
        "In-Reply-To: <a@b> <c@d>\r\n",
        "References: <\r\n",
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
        "Content-Type: text/html; charset=koi8-r\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf\r\n",
        "\r\n",
        "--b\r\n",
        "--b--\r\n",
        "<html><p>x &amp; y</p>",
        "=E9=3D\r\n",
        "SGVsbG8=\r\n",
        "Auto-Submitted: auto-replied\r\n",
        "Return-Path: <>\r\n",
        "\u{0}\u{feff}",
        "\r\n\r\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Some(m) = parse(&raw) {
                prop_assert!(!m.message_id.is_empty());
            }
        }

        #[test]
        fn header_soups_never_panic_and_ids_are_stable(
            picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..40),
            tail in ".{0,200}",
        ) {
            let mut raw: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
            raw.push_str(&tail);
            let a = parse(raw.as_bytes());
            let b = parse(raw.as_bytes());
            prop_assert_eq!(a.map(|m| m.message_id), b.map(|m| m.message_id));
        }
    }
}
