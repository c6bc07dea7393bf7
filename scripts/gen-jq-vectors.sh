#!/usr/bin/env bash
# Regenerates tests/data/jq-vectors.json: configuration.json texts with tricky workerToken
# strings and the exact bytes the real `jq .workerToken` prints for each (trailing newline
# removed). The unit tests check that eva-ha's json token format reproduces them; the
# integration tests also run the installed jq live. Usage: scripts/gen-jq-vectors.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh # say
out=${1:-tests/data/jq-vectors.json}
command -v jq >/dev/null || { say "jq is required (apt-get install jq)"; exit 5; }
python3 - "$out" <<'PY'
import json, subprocess, sys

tokens = {
    "plain": "abc123",
    "uuid": "3f2b1c9e-7d4a-4e0b-9c1d-5a6b7c8d9e0f",
    "double quotes": 'a"b"c',
    "backslashes": "a\\b\\\\c\\",
    "slash": "a/b</script>",
    "single quote": "it's",
    "spaces": "with  two spaces and trailing ",
    "shell metachars": "$(id);`id`|&>*?[x]",
    "newline": "line1\nline2",
    "crlf": "a\r\nb",
    "tab": "a\tb",
    "backspace formfeed": "a\bb\fc",
    "nul": "a\u0000b",
    "all C0 controls": "".join(chr(c) for c in range(0x20)),
    "DEL": "a\u007fb",
    "C1 control": "a\u0085b",
    "latin-1": "café naïve",
    "japanese": "トークン東京",
    "emoji (astral)": "key🔑😀",
    "line separator": "a\u2028b\u2029c",
    "BOM inside": "\ufeffx",
    "max BMP": "\uffff",
    "quote at ends": '"quoted"',
    "only backslash": "\\",
    "json lookalike": '{"k":"v"}',
    "long": "x" * 4096,
}

def jq(text: bytes) -> str:
    res = subprocess.run(["jq", ".workerToken"], input=text, capture_output=True, check=True)
    assert res.stdout.endswith(b"\n"), res.stdout
    return res.stdout[:-1].decode("utf-8")

vectors = []
for name, tok in tokens.items():
    for style, text in (
        ("ascii-escaped", json.dumps({"masterIp": "10.0.0.1", "workerToken": tok}, ensure_ascii=True)),
        ("utf-8", json.dumps({"workerToken": tok, "nested": {"workerToken": "no"}}, ensure_ascii=False, indent=2)),
    ):
        vectors.append({"name": f"{name} ({style})", "config": text, "jq": jq(text.encode("utf-8"))})

# Input-side escapes that jq normalises on output.
for name, text in (
    ("escaped solidus and unicode escapes", r'{"workerToken":"\/\u0041\u00e9\ud83d\ude00"}'),
    ("duplicate key, last wins", '{"workerToken":"first","workerToken":"second"}'),
    ("upper-case hex escapes", r'{"workerToken":"\u001F\u007F\u00AD"}'),
):
    vectors.append({"name": name, "config": text, "jq": jq(text.encode("utf-8"))})

with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(vectors, f, ensure_ascii=True, indent=1)
    f.write("\n")
print(f"gen-jq-vectors: {len(vectors)} vectors written to {sys.argv[1]} with {subprocess.run(['jq', '--version'], capture_output=True, text=True).stdout.strip()}", file=sys.stderr)
PY
