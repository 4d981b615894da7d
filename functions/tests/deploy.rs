//! The SAM template (`deploy/template.yaml`) passes cfn-lint (pinned in
//! `scripts/requirements-cfn-lint.txt`, installed in `.venv` by
//! `scripts/setup-moto`). Fails, never skips, when cfn-lint is missing.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("functions/ is in the repository")
        .to_path_buf()
}

#[test]
fn the_sam_template_passes_cfn_lint() {
    let root = repo();
    let cfn_lint = root.join(".venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is not installed: run scripts/setup-moto (the README's test command does); {} is missing",
        cfn_lint.display()
    );
    let output = Command::new(&cfn_lint)
        .arg("deploy/template.yaml")
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", cfn_lint.display()));
    assert!(
        output.status.success(),
        "cfn-lint deploy/template.yaml failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_template_names_every_function_binary_and_no_secret() {
    let template =
        std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("the template");
    for code in ["build/api/", "build/rebuild/", "build/close/"] {
        assert!(template.contains(&format!("CodeUri: {code}")), "{code}");
    }
    for secret in ["sk_live_", "sk_test_", "whsec_"] {
        assert!(
            !template.contains(secret),
            "a Stripe secret in the template"
        );
    }
}

/// The CloudFront response headers policies send exactly the headers of
/// `pave_generator::headers` (what `pave serve` sends), the API's origin
/// added to `form-action` while the API has its own domain.
#[test]
fn the_distribution_sends_the_sites_security_headers() {
    use pave_generator::headers;
    let template =
        std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("the template");
    let policies: Vec<String> = template
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("- \"default-src"))
        .map(|l| format!("default-src{}", l.trim_end_matches('"')))
        .map(|l| l.replace(" ${ApiOrigin}", ""))
        .collect();
    assert_eq!(
        policies,
        [
            headers::content_security_policy("/", false),
            headers::content_security_policy("/projets/x/widget/", false),
        ],
        "the template's two Content-Security-Policies"
    );
    assert!(template.contains("ResponseHeadersPolicyId: !Ref SecurityHeaders"));
    for pattern in ["projets/*/widget/*", "en/projets/*/widget/*"] {
        let at = template
            .find(&format!("PathPattern: {pattern}"))
            .unwrap_or_else(|| panic!("no cache behaviour for {pattern}"));
        let behaviour = &template[at..];
        let next = behaviour[1..]
            .find("PathPattern")
            .map_or(behaviour.len(), |n| n + 1);
        assert!(
            behaviour[..next].contains("ResponseHeadersPolicyId: !Ref WidgetSecurityHeaders"),
            "{pattern}"
        );
    }
    assert!(template.contains(&format!(
        "AccessControlMaxAgeSec: {}",
        headers::STRICT_TRANSPORT_SECURITY
            .strip_prefix("max-age=")
            .and_then(|s| s.split(';').next())
            .unwrap()
    )));
    for (name, value) in headers::OTHER_HEADERS {
        match name {
            "x-content-type-options" => assert!(template.contains("ContentTypeOptions:")),
            "referrer-policy" => {
                assert!(template.contains(&format!("ReferrerPolicy: {value}")))
            }
            other => panic!("{other} is not in the template"),
        }
    }
}

/// What a city needs to run it: alarms to a topic, failures kept, the
/// closer on EventBridge Scheduler in Europe/Paris, no concurrency
/// reservation a new account cannot make, access logs, a versioned bucket,
/// TLS 1.2 on a custom domain.
#[test]
fn the_template_operates_as_a_city_needs() {
    let template =
        std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("the template");
    for needed in [
        "Type: AWS::SNS::Topic",
        "Protocol: email",
        "CloseFailedAlarm:",
        "FailedEventsAlarm:",
        "Api5xxAlarm:",
        "MetricName: 5xx",
        "ApiErrorsAlarm:",
        "RebuildErrorsAlarm:",
        "MetricName: Throttles",
        "Type: ScheduleV2",
        "ScheduleExpressionTimezone: Europe/Paris",
        "DeadLetterConfig:",
        "RetryPolicy:",
        "MaximumRecordAgeInSeconds: 3600",
        "AccessLogSettings:",
        "VersioningConfiguration:",
        "MinimumProtocolVersion: TLSv1.2_2021",
        "Aliases: !If [HasDomain",
    ] {
        assert!(template.contains(needed), "the template lacks `{needed}`");
    }
    assert_eq!(
        template.matches("Type: SQS").count(),
        2,
        "the stream's and the closer's failures go to the queue"
    );
    assert_eq!(
        template.matches("AlarmActions: [!Ref Alarms]").count(),
        6,
        "every alarm notifies the topic"
    );
    assert!(
        !template.contains("ReservedConcurrentExecutions: 1"),
        "a reservation fails a new account's first deploy"
    );
    // The closer is given the scheduled time, which `now_of` reads.
    assert!(template.contains(r#"Input: '{"now": "<aws.scheduler.scheduled-time>"}'"#));
    assert!(
        pave_functions::lambda::closer::now_of(&serde_json::json!({"now": "2026-05-01T22:05:00Z"}))
            .is_ok()
    );
}
