"""/ui/alerts: the alert outputs, silences and recent deliveries; its forms add and delete
outputs and silences (api/console/alert_forms.py), as REST and the client do (docs/alerts.md)."""

from __future__ import annotations

import falcon

from api.console.web import Console
from protocol.alert_actions import OutputKind

#: Deliveries shown (newest first).
DELIVERIES = 100


class AlertsPage(Console):
    """Outputs (secrets hidden), silences, and the newest deliveries with their state."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the page (or its live tables alone for a poll)."""
        session = self.session(req, resp)
        outputs = self.hub.request("list_alert_outputs")["outputs"]
        silences = self.hub.request("list_silences")["silences"]
        deliveries = self.hub.request("alert_deliveries", {"limit": DELIVERIES})["deliveries"]
        template = "alerts_live.html" if req.get_param("part") == "live" else "alerts.html"
        self.render(resp, template, session, outputs=outputs, silences=silences,
                    deliveries=deliveries, kinds=[k.value for k in OutputKind],
                    error=req.get_param("error"), done=req.get_param("done"))
