"""Runs the pinned npm `html-validate` (package.json, installed by `npm ci` in
scripts/setup.sh) over HTML documents and returns its findings.

The repository's `.htmlvalidate.json` is passed explicitly: the documents are
written to a temporary directory, outside the tree where html-validate would
look for a configuration on its own.
"""
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin" / "html-validate"
CONFIG = ROOT / ".htmlvalidate.json"


def validate(documents: dict, workdir: Path) -> dict:
    """Validates {name: html}; returns {name: ["line:col rule: message", ...]}
    holding only the documents with errors (an empty dict means all valid)."""
    if not BIN.exists():
        raise RuntimeError(f"{BIN} is missing: run `npm ci` in {ROOT} (scripts/setup.sh does)")
    workdir.mkdir(parents=True, exist_ok=True)
    by_path = {}
    for name, html in documents.items():
        path = workdir / (name.strip("/").replace("/", "_").replace("?", "_").replace("=", "_") or "home")
        path = path.with_suffix(".html")
        path.write_text(html, encoding="utf-8")
        by_path[str(path.resolve())] = name
    proc = subprocess.run([str(BIN), "--config", str(CONFIG), "--formatter", "json", *by_path],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"html-validate failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    problems = {}
    for result in json.loads(proc.stdout):
        messages = [f"{m.get('line')}:{m.get('column')} {m.get('ruleId')}: {m.get('message')}"
                    for m in result.get("messages", []) if m.get("severity", 2) >= 2]
        if messages:
            problems[by_path.get(str(Path(result["filePath"]).resolve()), result["filePath"])] = messages
    return problems
