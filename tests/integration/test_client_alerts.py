"""enodo-client's alert commands against a real hub: outputs, silences, deliveries."""

from __future__ import annotations

from tests.integration.test_client_commands import client, client_home, hub  # noqa: F401


def test_alert_outputs_silences_and_deliveries_from_the_client():
    status, out = client("alert-output-add", "ops", "webhook", "http://127.0.0.1:9/hook",
                         "--secret", "s3", "--series", "cpu.*", "--kind", "anomaly")
    assert status == 0 and "added alert output ops" in out and "s3" not in out
    status, out = client("alert-outputs")
    assert status == 0 and out.split()[:7] == ["NAME", "KIND", "URL", "SERIES", "KINDS", "MIN",
                                               "PENDING"]
    assert "http://127.0.0.1:9/hook" in out and "cpu.*" in out and "s3" not in out
    assert client("alert-output-add", "ops", "webhook", "http://127.0.0.1:9/x")[0] != 0
    status, out = client("silence", "cpu.*", "--for", "2h", "--comment", "maintenance")
    assert status == 0 and out.startswith("silence ")
    silence_id = out.split()[1]
    assert silence_id in client("silences")[1]
    assert client("unsilence", silence_id) == (0, f"ended silence {silence_id}\n")
    assert client("silences") == (0, "no silences\n")
    assert client("deliveries", "--output", "ops") == (0, "no deliveries\n")
    assert client("alert-output-remove", "ops") == (0, "removed alert output ops\n")
    assert client("alert-outputs") == (0, "no alert outputs\n")
