"""static/js/track.js: keeps the landing URL's click id in a first-party cookie and localStorage."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tracking.ids import new_click_id

SNIPPET = Path(__file__).resolve().parents[2] / "static" / "js" / "track.js"
HARNESS = """
const fs = require("fs");
const jar = {}; const storage = {}; const inputs = [{value: ""}];
global.window = {location: {search: process.argv[2], protocol: "https:"},
  localStorage: {getItem: k => storage[k] ?? null, setItem: (k, v) => { storage[k] = v; }}};
global.document = {readyState: "complete", currentScript: {dataset: {}},
  get cookie() { return Object.entries(jar).map(([k, v]) => k + "=" + v).join("; "); },
  set cookie(value) { const [pair] = value.split("; "); const [k, v] = pair.split("="); jar[k] = v;
    global.lastCookie = value; },
  querySelectorAll: () => inputs, addEventListener: () => {}};
eval(fs.readFileSync(process.argv[1], "utf8"));
console.log(JSON.stringify({id: window.AffiliateTracking.getClickId(), cookie: global.lastCookie || "",
  input: inputs[0].value, stored: storage["afn_click_id"] || null}));
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


def run(search: str) -> dict:
    out = subprocess.run(["node", "-e", HARNESS, str(SNIPPET), search], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_click_id_from_the_landing_url_is_kept_and_filled_into_the_checkout_form():
    click_id = new_click_id()
    result = run(f"?utm_source=x&click_id={click_id.lower()}&sub1=fb")
    assert result["id"] == click_id and result["input"] == click_id
    assert "SameSite=Lax" in result["cookie"] and "Secure" in result["cookie"] and "path=/" in result["cookie"]
    assert json.loads(result["stored"])["id"] == click_id


def test_a_malformed_click_id_is_ignored():
    result = run("?click_id=<script>")
    assert result["id"] is None and result["cookie"] == "" and result["input"] == ""
