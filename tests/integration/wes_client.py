"""A GA4GH WES 1.1 client written from the specification (not from cwld's
code), for tests/integration/test_wes.sh. Each command prints one JSON object,
{"status": HTTP status, "body": the decoded JSON answer (or its text)}, so the
shell test can assert on both.

usage: wes_client.py --url BASE [--token T] COMMAND [ARGS]
  service-info
  submit --workflow-url U [--params JSON] [--type CWL] [--version v1.2]
         [--tags JSON] [--engine-params JSON] [--attach NAME=PATH]...
         [--field NAME=VALUE]... [--omit FIELD]...
  list [--page-size N] [--page-token T]
  list-all --page-size N          walks every page, prints the run ids
  get ID | status ID | cancel ID | tasks ID
  wait ID STATE... [--timeout S]  polls status until one of the states
"""
import argparse
import json
import sys
import time

import requests

API = "/ga4gh/wes/v1"


class Wes:
    def __init__(self, base, token=None):
        self.base = base.rstrip("/") + API
        self.s = requests.Session()
        if token:
            self.s.headers["Authorization"] = "Bearer " + token

    def _call(self, method, path, **kw):
        r = self.s.request(method, self.base + path, timeout=60, **kw)
        try:
            body = r.json()
        except ValueError:
            body = r.text
        return {"status": r.status_code, "body": body}

    def service_info(self):
        return self._call("GET", "/service-info")

    def run_workflow(self, workflow_url, params=None, wtype="CWL", version="v1.2",
                     tags=None, engine_params=None, attachments=(), fields=(), omit=()):
        # RunWorkflow is multipart/form-data: JSON-valued fields are strings,
        # each attachment a part named workflow_attachment with a filename.
        form = {"workflow_url": workflow_url, "workflow_type": wtype,
                "workflow_type_version": version}
        if params is not None:
            form["workflow_params"] = params
        if tags is not None:
            form["tags"] = tags
        if engine_params is not None:
            form["workflow_engine_parameters"] = engine_params
        for k in omit:
            form.pop(k, None)
        parts = [(k, (None, v)) for k, v in form.items()]
        parts += [(k, (None, v)) for k, v in fields]
        for name, data in attachments:
            parts.append(("workflow_attachment", (name, data, "application/octet-stream")))
        return self._call("POST", "/runs", files=parts)

    def list_runs(self, page_size=None, page_token=None):
        q = {}
        if page_size is not None:
            q["page_size"] = page_size
        if page_token is not None:
            q["page_token"] = page_token
        return self._call("GET", "/runs", params=q)

    def get_run_log(self, run_id):
        return self._call("GET", "/runs/" + run_id)

    def get_run_status(self, run_id):
        return self._call("GET", "/runs/%s/status" % run_id)

    def cancel_run(self, run_id):
        return self._call("POST", "/runs/%s/cancel" % run_id)

    def list_tasks(self, run_id):
        return self._call("GET", "/runs/%s/tasks" % run_id)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("service-info")
    s = sub.add_parser("submit")
    s.add_argument("--workflow-url", required=True)
    s.add_argument("--params")
    s.add_argument("--type", default="CWL")
    s.add_argument("--version", default="v1.2")
    s.add_argument("--tags")
    s.add_argument("--engine-params")
    s.add_argument("--attach", action="append", default=[])
    s.add_argument("--field", action="append", default=[])
    s.add_argument("--omit", action="append", default=[])
    li = sub.add_parser("list")
    li.add_argument("--page-size", type=int)
    li.add_argument("--page-token")
    la = sub.add_parser("list-all")
    la.add_argument("--page-size", type=int, required=True)
    for c in ("get", "status", "cancel", "tasks"):
        sub.add_parser(c).add_argument("id")
    w = sub.add_parser("wait")
    w.add_argument("id")
    w.add_argument("states", nargs="+")
    w.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    wes = Wes(a.url, a.token)

    if a.cmd == "service-info":
        out = wes.service_info()
    elif a.cmd == "submit":
        atts = []
        for spec in a.attach:
            name, path = spec.split("=", 1)
            with open(path, "rb") as f:
                atts.append((name, f.read()))
        fields = [tuple(f.split("=", 1)) for f in a.field]
        out = wes.run_workflow(a.workflow_url, a.params, a.type, a.version, a.tags,
                               a.engine_params, atts, fields, a.omit)
    elif a.cmd == "list":
        out = wes.list_runs(a.page_size, a.page_token)
    elif a.cmd == "list-all":
        # every page must hold at most page_size runs; the last token is ""
        ids, token, pages = [], None, 0
        while True:
            r = wes.list_runs(a.page_size, token)
            if r["status"] != 200:
                out = r
                break
            runs = r["body"]["runs"]
            if len(runs) > a.page_size:
                out = {"status": 0, "body": "page of %d runs" % len(runs)}
                break
            ids += [x["run_id"] for x in runs]
            pages += 1
            token = r["body"]["next_page_token"]
            if token == "":
                out = {"status": 200, "body": {"ids": ids, "pages": pages}}
                break
    elif a.cmd == "get":
        out = wes.get_run_log(a.id)
    elif a.cmd == "status":
        out = wes.get_run_status(a.id)
    elif a.cmd == "cancel":
        out = wes.cancel_run(a.id)
    elif a.cmd == "tasks":
        out = wes.list_tasks(a.id)
    elif a.cmd == "wait":
        end = time.time() + a.timeout
        while True:
            out = wes.get_run_status(a.id)
            st = out["body"].get("state") if isinstance(out["body"], dict) else None
            if out["status"] != 200 or st in a.states or time.time() > end:
                break
            time.sleep(0.1)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
