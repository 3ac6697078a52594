"""Where failure notices go: the log (default), a webhook (JSON POST), or Slack through dagster-slack."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import dagster as dg
from pydantic import Field


class NotifierResource(dg.ConfigurableResource):
    """`kind` = log | webhook | slack. The webhook URL and Slack token are secrets: set them with EnvVar."""

    kind: str = Field(default="log", description="log | webhook | slack")
    webhook_url: str | None = Field(default=None, description="Set through EnvVar('SKILLATLAS_WEBHOOK_URL')")
    slack_token: str | None = Field(default=None, description="Set through EnvVar('SLACK_TOKEN')")
    slack_channel: str = Field(default="#skillatlas-alerts", description="Slack channel of the notices")
    timeout_s: float = Field(default=5.0, gt=0, description="HTTP timeout of one notice, in seconds")
    webserver_url: str = Field(
        default="http://127.0.0.1:3000",
        description="Base URL of the Dagster webserver, for the run links in notices (SKILLATLAS_WEBSERVER_URL)",
    )

    def run_url(self, run_id: str) -> str:
        """The run's page in the Dagster UI."""
        return f"{self.webserver_url.rstrip('/')}/runs/{run_id}"

    def send(self, title: str, payload: dict[str, Any], log: Any = None) -> None:
        if self.kind == "log":
            if log is not None:
                # a recovery is good news: it must not show up among the errors
                emit = log.info if payload.get("status") == "recovered" else log.error
                emit(f"{title}: {json.dumps(payload, default=str)}")
            return
        if self.kind == "webhook":
            if not self.webhook_url:
                raise ValueError("notifier kind 'webhook' needs webhook_url (SKILLATLAS_WEBHOOK_URL)")
            body = json.dumps({"title": title, **payload}, default=str).encode()
            request = urllib.request.Request(
                self.webhook_url, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - configured URL
                response.read()
            return
        if self.kind == "slack":
            if not self.slack_token:
                raise ValueError("notifier kind 'slack' needs slack_token (SLACK_TOKEN)")
            from dagster_slack import SlackResource

            text = f"*{title}*\n" + "\n".join(f"{k}: {v}" for k, v in payload.items())
            SlackResource(token=self.slack_token).get_client().chat_postMessage(channel=self.slack_channel, text=text)
            return
        raise ValueError(f"notifier kind {self.kind!r} is not one of log, webhook, slack")
