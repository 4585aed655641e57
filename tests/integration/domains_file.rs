//! The domains file (`domains_file = "PATH"`): a hoster's table as plain
//! lines, served like `[[domain]]` entries, every bad line reported at once
//! with its number, and a reload with a bad file keeping the old table.

use http::StatusCode;

use crate::common::{TestServer, write_file};

fn mailsetup() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
}

#[tokio::test]
async fn domains_from_the_file_are_served_and_checked() {
    let dir = tempfile::tempdir().unwrap().keep();
    write_file(
        &dir,
        "domains.txt",
        "# customers\nnorthwind.test microsoft365 Northwind Traders\nadatum.test outlook\n",
    );
    let top = format!("domains_file = \"{}\"", dir.join("domains.txt").display());
    let server = TestServer::start_with_config(&top, "").await;
    let reply = server
        .get(
            "localhost",
            "/mail/config-v1.1.xml?emailaddress=alice%40northwind.test",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let provider = reply.xml().one("emailProvider").clone();
    assert_eq!(provider.text_at("displayName"), "Northwind Traders");
    assert_eq!(provider.texts("domain"), ["northwind.test"]);
    let reply = server.get("localhost", "/v1.1/adatum.test").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.xml().one("emailProvider").text_at("displayName"),
        "Outlook.com"
    );
    // The [[domain]] table of the same configuration still works.
    assert_eq!(
        server.get("localhost", "/v1.1/contoso.test").await.status,
        StatusCode::OK
    );

    let output = mailsetup()
        .args(["check", "--config"])
        .arg(&server.config_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("northwind.test"), "{stdout}");
    assert!(stdout.contains("adatum.test"), "{stdout}");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_lines_are_all_reported_and_a_reload_keeps_the_old_table() {
    let dir = tempfile::tempdir().unwrap().keep();
    let domains = write_file(&dir, "domains.txt", "northwind.test microsoft365\n");
    let top = format!("domains_file = \"{}\"", domains.display());
    let server = TestServer::start_with_config(&top, "").await;
    assert_eq!(
        server.get("localhost", "/v1.1/northwind.test").await.status,
        StatusCode::OK
    );

    std::fs::write(
        &domains,
        "northwind.test microsoft365\nbad_name.test outlook\nfine.test nosuch\n\
         northwind.test outlook\ncontoso.test outlook\nlonely.test\n",
    )
    .unwrap();
    let output = mailsetup()
        .args(["check", "--config"])
        .arg(&server.config_path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = domains.display().to_string();
    for expected in [
        format!("{path}:2: \"bad_name.test\" is not a domain name"),
        format!("{path}:3: unknown profile \"nosuch\""),
        format!("{path}:4: domain northwind.test is listed twice"),
        format!("{path}:6: expected `domain profile [display name]`"),
    ] {
        assert!(stderr.contains(&expected), "{expected}\n{stderr}");
    }

    // A reload with the bad file is refused; the old table stays.
    let error = server.reload().unwrap_err().to_string();
    assert!(error.contains(":2: "), "{error}");
    assert_eq!(
        server.get("localhost", "/v1.1/northwind.test").await.status,
        StatusCode::OK
    );

    // A domain in both the file and the [[domain]] table is an error too.
    std::fs::write(
        &domains,
        "northwind.test microsoft365\ncontoso.test outlook\n",
    )
    .unwrap();
    let error = server.reload().unwrap_err().to_string();
    assert!(
        error.contains(&format!(
            "{path}:2: domain contoso.test is also in the [[domain]] table"
        )),
        "{error}"
    );

    // A missing file is named with the key that names it.
    std::fs::remove_file(&domains).unwrap();
    let error = server.reload().unwrap_err().to_string();
    assert!(error.contains("domains_file"), "{error}");
    server.shutdown().await;
}

/// A reload keeps the table in service when its files are unchanged,
/// builds it again when a profile file changes (the domains file as it
/// was), and applies a domains file's changed lines (a copy of the table
/// updated, `update_domains_file`): an edited display name, a line added,
/// a line removed, a domain moved to another profile. Seen in the
/// documents.
#[tokio::test]
async fn a_reload_follows_a_profile_or_domains_file_change() {
    let dir = tempfile::tempdir().unwrap().keep();
    // Enough lines that a few changed ones are applied, not rebuilt.
    let others: String = (0..30)
        .map(|i| format!("d{i}.test outlook Customer {i}\n"))
        .collect();
    let domains = write_file(
        &dir,
        "domains.txt",
        &format!("northwind.test microsoft365\n{others}"),
    );
    let profiles = dir.join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let original = include_str!("../../profiles/microsoft365.toml");
    let profile = write_file(&profiles, "microsoft365.toml", original);
    let top = format!(
        "domains_file = \"{}\"\nprofiles_dir = \"{}\"",
        domains.display(),
        profiles.display()
    );
    let server = TestServer::start_with_config(&top, "").await;
    let display_name = |domain: &'static str| {
        let server = &server;
        async move {
            let reply = server.get("localhost", &format!("/v1.1/{domain}")).await;
            if reply.status == StatusCode::NOT_FOUND {
                return None;
            }
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            Some(
                reply
                    .xml()
                    .one("emailProvider")
                    .text_at("displayName")
                    .to_owned(),
            )
        }
    };
    assert_eq!(
        display_name("northwind.test").await.unwrap(),
        "Microsoft 365"
    );

    // Nothing changed.
    server.reload().unwrap();
    assert_eq!(
        display_name("northwind.test").await.unwrap(),
        "Microsoft 365"
    );

    // The profile alone: the table's sites must carry the new profile.
    let renamed = original.replacen(
        "name = \"Microsoft 365\"",
        "name = \"Microsoft 365 (work)\"",
        1,
    );
    assert_ne!(renamed, original);
    std::fs::write(&profile, renamed).unwrap();
    server.reload().unwrap();
    assert_eq!(
        display_name("northwind.test").await.unwrap(),
        "Microsoft 365 (work)"
    );

    // The domains file: one display name edited, d0 removed, d1 moved to
    // the other profile, one domain added in the middle.
    let edited = format!("northwind.test microsoft365 Northwind\n{others}")
        .replace("d0.test outlook Customer 0\n", "")
        .replace("d1.test outlook Customer 1", "d1.test microsoft365")
        .replace(
            "d9.test outlook",
            "added.test outlook Added\nd9.test outlook",
        );
    std::fs::write(&domains, edited).unwrap();
    server.reload().unwrap();
    assert_eq!(display_name("northwind.test").await.unwrap(), "Northwind");
    assert_eq!(display_name("d0.test").await, None);
    assert_eq!(
        display_name("d1.test").await.unwrap(),
        "Microsoft 365 (work)"
    );
    assert_eq!(display_name("added.test").await.unwrap(), "Added");
    assert_eq!(display_name("d29.test").await.unwrap(), "Customer 29");
    server.shutdown().await;
}

/// Thunderbird documents are cut once per profile and filled in per
/// request: every domain of one profile must still get its own id,
/// `<domain>` and (escaped) display name, and every account its own
/// username, in whatever order the domains are asked for.
#[tokio::test]
async fn each_domain_of_a_profile_gets_its_own_names_in_its_document() {
    let dir = tempfile::tempdir().unwrap().keep();
    let mut lines: String = (0..50)
        .map(|i| format!("d{i}.test microsoft365 Customer {i} & <Sons>\n"))
        .collect();
    lines.push_str("plain.test microsoft365\n");
    let domains = write_file(&dir, "domains.txt", &lines);
    let top = format!("domains_file = \"{}\"", domains.display());
    let server = TestServer::start_with_config(&top, "").await;
    // Twice over: the second round is served from pieces another domain's
    // request cut.
    for round in 0..2 {
        for (asked, domain, display_name) in [
            ("D7.Test", "d7.test", "Customer 7 & <Sons>"),
            ("d49.test", "d49.test", "Customer 49 & <Sons>"),
            ("plain.test", "plain.test", "Microsoft 365"),
            ("d0.test", "d0.test", "Customer 0 & <Sons>"),
        ] {
            let reply = server
                .get(
                    "localhost",
                    &format!("/mail/config-v1.1.xml?emailaddress=user{round}%40{asked}"),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            let provider = reply.xml().one("emailProvider").clone();
            assert_eq!(provider.attr("id"), Some(domain));
            assert_eq!(provider.texts("domain"), [domain]);
            assert_eq!(provider.text_at("displayName"), display_name);
            let username = format!("user{round}@{domain}");
            let servers: Vec<_> = provider
                .all("incomingServer")
                .chain(provider.all("outgoingServer"))
                .collect();
            assert!(servers.len() >= 2, "{}", reply.text());
            for server in servers {
                assert_eq!(server.text_at("username"), username, "{}", reply.text());
            }
        }
    }
    // A domain the outlook profile lists itself names itself as the id and
    // lists the profile's domains, even after a table domain's request.
    for domain in ["hotmail.fr", "live.fr"] {
        let reply = server.get("localhost", &format!("/v1.1/{domain}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let provider = reply.xml().one("emailProvider").clone();
        assert_eq!(provider.attr("id"), Some(domain));
        let listed = provider.texts("domain");
        assert!(
            listed.contains(&"hotmail.fr") && listed.contains(&"live.fr"),
            "{listed:?}"
        );
    }
    server.shutdown().await;
}

/// A reload that cannot finish reading its files (here the domains file
/// became a FIFO nobody writes to, as a hung network mount would) must not
/// keep the server from stopping: SIGHUP reloads off the signal loop, and
/// SIGTERM is still acted on.
#[test]
fn a_stuck_reload_does_not_block_sigterm() {
    use crate::common::serve_process::ServeProcess;
    use crate::common::{TestCa, write_config_with};
    let ca = TestCa::new();
    let domains = write_file(
        ca.dir.path(),
        "domains.txt",
        "northwind.test microsoft365\n",
    );
    let top = format!("domains_file = \"{}\"", domains.display());
    let config = write_config_with(&ca, &top, "");
    let mut serve = ServeProcess::start(&config);
    std::fs::remove_file(&domains).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&domains)
        .status()
        .unwrap();
    assert!(made.success());
    serve.hang_up();
    // Let the reload reach the FIFO and block there.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(serve.child.try_wait().unwrap().is_none(), "still serving");
    // Panics if the process has not exited 5 s after SIGTERM.
    assert!(serve.terminate().success());
}

/// A SIGHUP reload's log line says what it did with the table: kept when
/// the domains file says the same, updated when its lines changed, built
/// when a `[[domain]]` entry changed, and the number of domains; a bad
/// line refuses the reload with its line number. The served document
/// follows each step.
#[tokio::test]
async fn a_sighup_reload_logs_what_it_did_with_the_table() {
    use crate::common::serve_process::{ServeProcess, http_get, serve_command};
    use crate::common::{TestCa, write_config_with};
    let ca = TestCa::new();
    let lines: String = (0..20)
        .map(|i| format!("d{i}.test outlook Customer {i}\n"))
        .collect();
    let domains = write_file(ca.dir.path(), "domains.txt", &lines);
    let top = format!("domains_file = \"{}\"", domains.display());
    let config = write_config_with(&ca, &top, "");
    let log = ca.dir.path().join("serve.log");
    let serve =
        ServeProcess::spawn(serve_command(&config).stderr(std::fs::File::create(&log).unwrap()));
    let mut reloads = 0;
    // SIGHUP, then the log line of that reload once it is written.
    let mut reload = || {
        reloads += 1;
        serve.hang_up();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let said = std::fs::read_to_string(&log).unwrap();
            let done: Vec<&str> = said
                .lines()
                .filter(|line| {
                    line.contains("configuration reloaded") || line.contains("reload refused")
                })
                .collect();
            if done.len() == reloads {
                return done[reloads - 1].to_owned();
            }
            assert!(std::time::Instant::now() < deadline, "{said}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let domains_in = |line: &str| -> usize {
        let count = line.split("domains=").nth(1).expect(line);
        count
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .expect(line)
    };
    let display_name = |domain: &'static str| {
        let http = serve.http;
        async move {
            let answer = http_get(http, &format!("/v1.1/{domain}")).await.unwrap();
            let start = answer.find("<displayName>").expect(&answer) + "<displayName>".len();
            let end = answer[start..].find('<').unwrap() + start;
            answer[start..end].to_owned()
        }
    };

    let kept = reload();
    assert!(kept.contains("domain_table=\"kept\""), "{kept}");
    let listed = domains_in(&kept);
    assert!(listed >= 20, "{kept}");

    std::fs::write(
        &domains,
        format!(
            "{}new.test outlook New\n",
            lines.replace("Customer 3\n", "Renamed\n")
        ),
    )
    .unwrap();
    let updated = reload();
    assert!(updated.contains("domain_table=\"updated\""), "{updated}");
    assert_eq!(domains_in(&updated), listed + 1, "{updated}");
    assert_eq!(display_name("d3.test").await, "Renamed");
    assert_eq!(display_name("new.test").await, "New");

    write_config_with(
        &ca,
        &top,
        "[[domain]]\nname = \"extra.test\"\nprofile = \"outlook\"\ndisplay_name = \"Extra\"\n",
    );
    let built = reload();
    assert!(built.contains("domain_table=\"built\""), "{built}");
    assert_eq!(domains_in(&built), listed + 2, "{built}");
    assert_eq!(display_name("extra.test").await, "Extra");
    assert_eq!(display_name("d3.test").await, "Renamed");

    std::fs::write(&domains, format!("{lines}bad_name.test outlook\n")).unwrap();
    let refused = reload();
    assert!(refused.contains("reload refused"), "{refused}");
    assert!(refused.contains("domains.txt:21:"), "{refused}");
    assert_eq!(display_name("new.test").await, "New");
}
