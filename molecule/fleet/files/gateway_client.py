"""Test scaffolding: steady client traffic through the gateway while a rollout runs, one short generation after
another until the stop file appears; then one JSON line with every answer's status (and error text)."""
import argparse
import http.client
import json
import os
import ssl
import time

parser = argparse.ArgumentParser()
parser.add_argument('--host', required=True)
parser.add_argument('--cafile', required=True)
parser.add_argument('--key', required=True)
parser.add_argument('--model', required=True)
parser.add_argument('--stop-file', required=True)
parser.add_argument('--max-seconds', type=float, default=900)
args = parser.parse_args()

context = ssl.create_default_context(cafile=args.cafile)
body = json.dumps({'model': args.model, 'prompt': 'hi', 'stream': False, 'options': {'num_predict': 2}})
results = []
start = time.monotonic()
while not os.path.exists(args.stop_file) and time.monotonic() - start < args.max_seconds:
    sent = time.monotonic() - start
    try:
        conn = http.client.HTTPSConnection(args.host, 443, timeout=30, context=context)
        conn.request('POST', '/api/generate', body, {'Authorization': 'Bearer ' + args.key, 'Content-Type': 'application/json'})
        reply = conn.getresponse()
        text = reply.read().decode(errors='replace')
        results.append({'t': round(sent, 3), 'status': reply.status, 'error': '' if reply.status == 200 else text[:200]})
        conn.close()
    except OSError as err:
        results.append({'t': round(sent, 3), 'status': 0, 'error': str(err)})
    # Under the proxies' rate limit (10 requests/s per client by default): a 429 here would be the limit working.
    time.sleep(max(0.0, 0.125 - (time.monotonic() - start - sent)))
print(json.dumps({'seconds': round(time.monotonic() - start, 1), 'results': results}))
