#!/usr/bin/env python3
"""A fake `evm t8n` for lockstep's tests: answers with a prepared answer, or fails on purpose.

Usage: fake_t8n.py MODE ANSWER.json [t8n flags...]. ANSWER.json holds {"result", "alloc"}, the
right answer for the block the test sends. MODE says what to do with it:
ok, crash, exit, garbage, empty, hang, wrong-root, drop-receipt, reject-valid.
"""
import json
import os
import signal
import subprocess
import sys
import time

mode, answer_path = sys.argv[1], sys.argv[2]
flags = dict(zip(sys.argv[3::2], sys.argv[4::2]))
for name in ("--input.alloc", "--input.env", "--input.txs"):
    json.load(open(flags[name]))  # the inputs must be JSON, whatever the mode
answer = json.load(open(answer_path))
result, alloc = answer["result"], answer["alloc"]

if mode == "crash":
    sys.stderr.write("fake t8n: about to crash\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSEGV)
if mode == "exit":
    sys.stderr.write("Traceback (most recent call last):\nKeyError: 'withdrawals'\n")
    sys.exit(1)
if mode == "hang":
    # A child in the same process group, which must die with the tool.
    subprocess.Popen(["sleep", "1000"])
    time.sleep(1000)
if mode == "wrong-root":
    result["stateRoot"] = "0x" + "11" * 32
if mode == "drop-receipt":
    result["receipts"] = result["receipts"][:-1]
if mode == "reject-valid":
    result["receipts"] = result["receipts"][1:]
    result["rejected"] = [{"index": 0, "error": "Failed transaction: NonceMismatchError('nonce too high')"}]

base = flags["--output.basedir"]
with open(os.path.join(base, flags["--output.result"]), "w") as f:
    if mode == "garbage":
        f.write("this is not json {")
    elif mode != "empty":
        json.dump(result, f)
with open(os.path.join(base, flags["--output.alloc"]), "w") as f:
    if mode not in ("garbage", "empty"):
        json.dump(alloc, f)
