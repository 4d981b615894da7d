//! A person's path after acting, in Debian's headless Chromium against
//! `pave serve` on the sample content (`tests/web/flow.mjs`): a pledge with
//! JavaScript on (desktop) and one with it off (phone), each from the project
//! page through the test checkout to the thank-you page and back; an offer
//! of help without JavaScript, emailed to the holder and the territory's
//! editors named in the private `contacts.yaml`, and listed in the
//! holder's statement. The screenshots go to `PAVE_SCREENSHOTS` when
//! set (else a temporary folder).

mod common;

use std::process::Command;

use common::*;

#[test]
fn after_paying_or_offering_a_person_sees_what_they_did_and_the_new_total() {
    let dir = sample_copy();
    // Who is told of offers: private, beside the store, not in the content.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/contacts.yaml"),
        "projects:\n  cafe-du-coin: [alexis@cafe.example]\nterritories:\n  saint-etienne: [participation@saint-etienne.example]\n",
    )
    .unwrap();
    let sink = SmtpSink::start();
    let smtp = sink.url();
    let server = start_sample_server_with(
        dir.path(),
        &["--today", common::SAMPLE_DAY],
        &[
            ("SMTP_URL", &smtp),
            ("MAIL_FROM", "Pavé <dons@pave.example>"),
        ],
    );
    let shots = std::env::var("PAVE_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("shots"));
    let output = Command::new("node")
        .arg(repo_root().join("tests/web/flow.mjs"))
        .args(["--base", &format!("http://{}", server.addr)])
        .arg("--shots")
        .arg(&shots)
        .output()
        .expect("node runs (scripts/setup-web installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "the browser harness failed: {stderr}\nrun scripts/setup-web"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("harness output is not JSON ({e}): {stderr}"));
    // As read, with French money's narrow no-break spaces as plain ones.
    let text = |v: &serde_json::Value| {
        v.as_str()
            .unwrap_or_default()
            .replace(['\u{202F}', '\u{A0}'], " ")
    };

    // Toit partagé: the Fondation BTP Plus adds one euro per citizen euro.
    // Camille (JavaScript on, desktop, French): 40 € with a reward.
    let camille = &report["pledges"][0];
    assert_eq!(text(&camille["before"]), "0 € sur 15 000 € — 0 %");
    let thanks = &camille["thanks"];
    assert!(text(&thanks["url"]).contains("/api/pledges/pl_"));
    assert_eq!(text(&thanks["lang"]), "fr");
    assert_eq!(text(&thanks["h1"]), "Merci, Camille !");
    assert_eq!(text(&thanks["title"]), "Merci, Camille ! — Pavé");
    let main = text(&thanks["main"]);
    for expected in [
        "Votre contribution de 40 € au projet « Toit partagé",
        "Votre contrepartie : Un repas partagé avec les familles du réseau",
        "Fondation BTP Plus ajoute 40 €",
        "Votre geste de 40 € apporte 80 € au projet.",
        "80 € sur 15 000 €",
        "1 contributeur",
        "même si l’objectif de 15 000 € n’est pas atteint",
        "Faites-le savoir",
    ] {
        assert!(main.contains(expected), "{expected}:\n{main}");
    }
    assert_eq!(
        camille["thanks_axe"],
        serde_json::json!([]),
        "accessibility violations on the thank-you page"
    );
    // Back on the project page, the pledge is already counted.
    assert_eq!(
        text(&camille["after"]["amounts"]),
        "80 € sur 15 000 € — 0 %"
    );

    // Dominique (JavaScript off, phone, English): 25 €, no reward.
    let dominique = &report["pledges"][1];
    assert_eq!(dominique["js"], false);
    let thanks = &dominique["thanks"];
    assert_eq!(text(&thanks["lang"]), "en");
    assert_eq!(text(&thanks["h1"]), "Thank you, Dominique!");
    let main = text(&thanks["main"]);
    for expected in [
        "Your pledge of €25 to “Toit partagé",
        "Fondation BTP Plus adds €25",
        "Your €25 brings the project €50.",
        "€130 of €15,000",
        "2 backers",
    ] {
        assert!(main.contains(expected), "{expected}:\n{main}");
    }
    assert!(!main.contains("Your reward"), "{main}");
    assert_eq!(text(&dominique["after"]["amounts"]), "€130 of €15,000 — 0%");
    // On the phone the figures and the pledge form come right after the
    // title and its summary, before the story; on the desktop the story is
    // beside them.
    let at = |who: &serde_json::Value, what: &str| who["after"][what].as_i64().unwrap_or(-1);
    assert!(
        at(dominique, "figures_top") < at(dominique, "form_top")
            && at(dominique, "form_top") < at(dominique, "story_top")
            && at(dominique, "figures_top") - at(dominique, "lead_bottom") < 100,
        "phone: {:#}",
        dominique["after"]
    );
    // And a link to the form right after the figures, above the pools.
    assert_eq!(text(&dominique["after"]["jump_text"]), "Pledge");
    assert!(
        at(dominique, "jump_top") > at(dominique, "figures_top")
            && at(dominique, "jump_top") - at(dominique, "lead_bottom") < 250
            && at(dominique, "jump_top") < at(dominique, "form_top"),
        "phone: {:#}",
        dominique["after"]
    );
    assert!(
        at(camille, "figures_top") - at(camille, "lead_bottom") < 100
            && at(camille, "story_top") - at(camille, "lead_bottom") < 600,
        "desktop: {:#}",
        camille["after"]
    );

    // Zoé's offer of help (JavaScript off): recorded, with what she wrote.
    let zoe = &report["offers"][0]["confirmation"];
    assert_eq!(text(&zoe["h1"]), "Merci pour votre proposition d’aide");
    let main = text(&zoe["main"]);
    for expected in [
        "est transmise à l’équipe du projet, Alexis et Clément",
        "Zoé",
        "zoe@example.org",
        "Je peux repeindre la façade\nle samedi matin.",
        "Retour au projet",
    ] {
        assert!(main.contains(expected), "{expected}:\n{main}");
    }
    // The holder and the territory's editors each get it by email, with
    // who offers what and how to answer.
    let wait = std::time::Duration::from_secs(30);
    let emails: Vec<serde_json::Value> = sink
        .wait_for(4, wait)
        .into_iter()
        .filter(|m| text(&m["subject"]).starts_with("Proposition d’aide"))
        .collect();
    let mut told: Vec<String> = emails.iter().map(|m| text(&m["rcpt_tos"][0])).collect();
    told.sort();
    assert_eq!(
        told,
        ["alexis@cafe.example", "participation@saint-etienne.example"],
        "{emails:#?}"
    );
    let body = text(&emails[0]["text"]).replace("\r\n", "\n");
    for expected in [
        "Zoé propose son aide au projet « Le Café du Coin — café, AMAP et ressourcerie », le 23 novembre 2026.",
        "Besoin : Des bras pour l'aménagement et la décoration",
        "Contact : zoe@example.org",
        "  Je peux repeindre la façade\n  le samedi matin.",
    ] {
        assert!(body.contains(expected), "{expected}:\n{body}");
    }
    // The two donors got their confirmations, nobody else anything.
    assert_eq!(sink.messages().len(), 4, "{:#?}", sink.messages());

    // And the holder's statement lists it.
    let out = pave(
        dir.path(),
        &[
            "statements",
            "--db",
            "data/pave.sqlite",
            "--catalog",
            "public/catalog.json",
            "--project",
            "cafe-du-coin",
            "--out",
            "statements",
        ],
        std::time::Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statement =
        std::fs::read_to_string(dir.path().join("statements/holder-cafe-du-coin.html")).unwrap();
    for expected in [
        "<h2>Propositions d’aide</h2>",
        "<td>Zoé</td>",
        "<td>zoe@example.org</td>",
    ] {
        assert!(statement.contains(expected), "{expected}:\n{statement}");
    }
    // The wall of backers: Marseille lets backers leave a word, so
    // Camille's is shown with her name; Saint-Étienne does not, so the café's
    // form has no such field.
    let (status, _, wall) = http(
        &server.addr,
        "GET",
        "/api/projects/toit-partage/backers",
        &[],
        b"",
    );
    assert_eq!(status, 200);
    let wall = String::from_utf8(wall).unwrap();
    for expected in [
        "<li><strong>Dominique</strong>",
        "<li><strong>Camille</strong>",
        "<q lang=\"fr\">Bravo pour ce réseau, je suis fière de Marseille !</q>",
    ] {
        assert!(wall.contains(expected), "{expected}: {wall}");
    }
    assert!(
        wall.find("Dominique") < wall.find("Camille"),
        "newest first: {wall}"
    );
    let (_, _, cafe) = http(&server.addr, "GET", "/projets/cafe-du-coin/", &[], b"");
    assert!(!String::from_utf8_lossy(&cafe).contains("pledge-message"));

    // News: Camille asked for Toit partagé's news, Dominique did not. A
    // news item published (here, written into the preview's content) goes
    // to her alone, in French, with the one-click unsubscribe headers.
    let news_dir = dir
        .path()
        .join("content/territories/marseille/projects/toit-partage/news");
    std::fs::write(
        news_dir.join("2026-11-23-chantier.md"),
        "---\ntitle: Le chantier commence lundi\ndate: 2026-11-23\n---\nLes murs de la maison sont sains : les travaux commencent lundi.\n",
    )
    .unwrap();
    let is_news = |m: &serde_json::Value| text(&m["subject"]).starts_with("Des nouvelles de");
    let start = std::time::Instant::now();
    let news: Vec<serde_json::Value> = loop {
        let found: Vec<_> = sink.messages().into_iter().filter(is_news).collect();
        if !found.is_empty() || start.elapsed() > wait {
            break found;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(news.len(), 1, "{news:#?}");
    assert_eq!(text(&news[0]["rcpt_tos"][0]), "camille@example.org");
    assert_eq!(
        text(&news[0]["subject"]),
        "Des nouvelles de « Toit partagé, un réseau d'hébergement citoyen pour les personnes réfugiées » : Le chantier commence lundi"
    );
    let body = text(&news[0]["text"]).replace("\r\n", "\n");
    assert!(body.contains("Les murs de la maison sont sains"), "{body}");
    let raw = text(&news[0]["raw"]);
    assert!(
        raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{raw}"
    );
    let link = body
        .split("Pour ne plus les recevoir : ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an unsubscribe link")
        .to_string();
    assert!(
        raw.contains(&format!("List-Unsubscribe: <{link}>")),
        "{raw}"
    );
    // She unsubscribes from the link, without JavaScript.
    let output = Command::new("node")
        .arg(repo_root().join("tests/web/flow.mjs"))
        .args(["--unsubscribe", &link])
        .arg("--shots")
        .arg(&shots)
        .output()
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let unsubscribed: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("harness output is not JSON ({e}): {stderr}"));
    assert_eq!(
        text(&unsubscribed["ask"]["h1"]),
        "Ne plus recevoir les nouvelles"
    );
    assert_eq!(text(&unsubscribed["done"]["h1"]), "Vous êtes désabonné(e)");
    assert!(
        text(&unsubscribed["done"]["main"])
            .contains("Plus aucune nouvelle du projet « Toit partagé")
    );
    // Remembered: the next news item reaches no one.
    std::fs::write(
        news_dir.join("2026-11-23-toiture.md"),
        "---\ntitle: La toiture est refaite\ndate: 2026-11-23\n---\nTuiles posées.\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    loop {
        let (_, _, page) = http(&server.addr, "GET", "/projets/toit-partage/", &[], b"");
        if String::from_utf8_lossy(&page).contains("La toiture est refaite") {
            break;
        }
        assert!(start.elapsed() < wait, "the preview did not rebuild");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let news: Vec<_> = sink.messages().into_iter().filter(is_news).collect();
    assert_eq!(news.len(), 1, "no news after unsubscribing: {news:#?}");

    for shot in [
        "thanks-desktop.png",
        "thanks-phone.png",
        "project-desktop.png",
        "project-phone.png",
        "offer-nojs.png",
        "unsubscribed.png",
    ] {
        assert!(shots.join(shot).is_file(), "{shot} was not taken");
    }
}
