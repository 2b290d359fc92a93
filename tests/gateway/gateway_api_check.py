#!/usr/bin/env python3
"""Checks a running scorepipe gateway with Python's http.client, as a client of
the Open Inference Protocol (KServe v2) and of the upstream-format API would
call it: every endpoint, every error status, the protocol's JSON shapes, and
scores equal to the model's own (the --expect file, written by the caller
from the model itself).

Usage: gateway_api_check.py --port P --model NAME --expect FILE
                            [--max-body-bytes N] [--max-items N]
Exit 0 when every check passes; otherwise each failure on stderr and exit 1.
"""
import argparse
import http.client
import json
import sys

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
    return condition


class Client:
    def __init__(self, port):
        # One keep-alive connection for every request.
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
            check(False, f"{method} {path}: the answer is not JSON: {payload[:200]!r}")
        return response.status, parsed, response


def is_error(status, body, expected, what):
    ok = check(status == expected, f"{what}: status {status}, expected {expected} ({body})")
    ok = check(isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"],
               f"{what}: no {{\"error\": ...}} in {body}") and ok
    return ok


def tensor_metadata_ok(tensor):
    return (isinstance(tensor, dict) and isinstance(tensor.get("name"), str)
            and isinstance(tensor.get("datatype"), str) and isinstance(tensor.get("shape"), list)
            and all(isinstance(d, int) for d in tensor["shape"]))


def check_infer_response(body, rows, model, request_id, what):
    if not check(isinstance(body, dict), f"{what}: not an object: {body}"):
        return None
    check(body.get("model_name") == model, f"{what}: model_name {body.get('model_name')}")
    check(isinstance(body.get("model_version"), str), f"{what}: model_version {body.get('model_version')}")
    if request_id is not None:
        check(body.get("id") == request_id, f"{what}: id {body.get('id')} not echoed")
    outputs = body.get("outputs")
    if not check(isinstance(outputs, list) and outputs, f"{what}: no outputs"):
        return None
    by_name = {}
    for output in outputs:
        check(tensor_metadata_ok(output) and isinstance(output.get("data"), list),
              f"{what}: output {output} lacks name/datatype/shape/data")
        check(output.get("shape") == [rows], f"{what}: output shape {output.get('shape')} for {rows} rows")
        check(len(output.get("data", [])) == rows, f"{what}: {len(output.get('data', []))} values for {rows} rows")
        by_name[output.get("name")] = output
    for name in ("fraud_probability", "confidence"):
        if name in by_name:
            check(by_name[name]["datatype"] == "FP64", f"{what}: {name} is {by_name[name]['datatype']}")
            check(all(0.0 <= p <= 1.0 for p in by_name[name]["data"]), f"{what}: {name} outside [0, 1]")
    if "is_fraudulent" in by_name:
        decision = by_name["is_fraudulent"]
        check(decision["datatype"] == "INT32", f"{what}: is_fraudulent is {decision['datatype']}")
        check(all(d in (0, 1) for d in decision["data"]), f"{what}: a decision other than 0 or 1")
    return by_name


def named_inputs(transactions):
    def column(name, datatype, values):
        return {"name": name, "datatype": datatype, "shape": [len(values)], "data": values}
    return [
        column("id", "INT64", [t["id"] for t in transactions]),
        column("customer_id", "INT64", [t["customer_id"] for t in transactions]),
        column("vendor_id", "INT64", [t["vendor_id"] for t in transactions]),
        column("amount", "FP64", [t["amount"] for t in transactions]),
        column("timestamp", "BYTES", [t["timestamp"] for t in transactions]),
        column("status", "BYTES", [t["status"] for t in transactions]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--expect", required=True,
                        help="JSON: {transactions: [...], features: [[...]], probabilities: [...]}")
    parser.add_argument("--max-body-bytes", type=int, default=8 << 20)
    parser.add_argument("--max-items", type=int, default=4096)
    args = parser.parse_args()
    with open(args.expect) as f:
        expect = json.load(f)
    transactions, features, probabilities = expect["transactions"], expect["features"], expect["probabilities"]
    c = Client(args.port)
    model = args.model

    # Health and metadata.
    status, body, _ = c.call("GET", "/v2/health/live")
    check(status == 200, f"live: {status} {body}")
    status, body, _ = c.call("GET", "/v2/health/ready")
    check(status == 200, f"ready: {status} {body}")
    status, body, _ = c.call("GET", "/v2")
    check(status == 200 and body.get("name") == "scorepipe" and isinstance(body.get("version"), str)
          and isinstance(body.get("extensions"), list), f"server metadata: {status} {body}")
    status, body, _ = c.call("GET", f"/v2/models/{model}")
    versions = body.get("versions", []) if isinstance(body, dict) else []
    check(status == 200 and body.get("name") == model and versions and isinstance(body.get("platform"), str)
          and all(tensor_metadata_ok(t) for t in body.get("inputs", []) + body.get("outputs", []))
          and body.get("inputs") and body.get("outputs"), f"model metadata: {status} {body}")
    width = next((t["shape"][1] for t in body.get("inputs", []) if t.get("name") == "features"), None)
    check(width == len(features[0]), f"model metadata: the features tensor is {width} wide, not {len(features[0])}")
    status, body, _ = c.call("GET", f"/v2/models/{model}/ready")
    check(status == 200 and body.get("ready") is True, f"model ready: {status} {body}")
    version = versions[0] if versions else "none"
    status, body, _ = c.call("GET", f"/v2/models/{model}/versions/{version}")
    check(status == 200 and body.get("name") == model, f"version metadata: {status} {body}")
    status, body, _ = c.call("GET", f"/v2/models/{model}/versions/{version}/ready")
    check(status == 200, f"version ready: {status} {body}")

    # Inference: the feature tensor, flat and nested; the named inputs.
    rows = len(features)
    request = {"id": "tensor-1", "inputs": [{"name": "features", "datatype": "FP64",
                                             "shape": [rows, len(features[0])], "data": features}]}
    status, body, _ = c.call("POST", f"/v2/models/{model}/infer", request)
    if check(status == 200, f"infer (tensor): {status} {body}"):
        out = check_infer_response(body, rows, model, "tensor-1", "infer (tensor)")
        check(out is not None and list(out) == ["fraud_probability", "is_fraudulent", "confidence"],
              f"infer (tensor): outputs {list(out or [])}")
        if out and "fraud_probability" in out:
            check(out["fraud_probability"]["data"] == probabilities,
                  "infer (tensor): the scores are not the model's own")
    flat = [v for row in features for v in row]
    request["inputs"][0]["data"] = flat
    request["inputs"][0]["datatype"] = "FP32"
    request["outputs"] = [{"name": "is_fraudulent"}]
    status, body, _ = c.call("POST", f"/v2/models/{model}/versions/{version}/infer", request)
    if check(status == 200, f"infer (flat FP32, one output, by version): {status} {body}"):
        out = check_infer_response(body, rows, model, "tensor-1", "infer (flat)")
        check(out is not None and list(out) == ["is_fraudulent"], f"infer (flat): outputs {list(out or [])}")
    status, body, _ = c.call("POST", f"/v2/models/{model}/infer", {"inputs": named_inputs(transactions)})
    if check(status == 200, f"infer (named inputs): {status} {body}"):
        out = check_infer_response(body, len(transactions), model, None, "infer (named)")
        if out and "fraud_probability" in out:
            check(out["fraud_probability"]["data"] == probabilities,
                  "infer (named inputs): the scores are not the model's own")

    # The upstream format.
    status, body, _ = c.call("POST", "/v1/score", transactions[0])
    if check(status == 200 and isinstance(body, dict), f"score (one): {status} {body}"):
        check(set(body) == {"transaction_id", "timestamp", "is_fraudulent", "confidence", "model",
                            "model_version"}, f"score (one): fields {sorted(body)}")
        check(body["transaction_id"] == transactions[0]["id"], f"score (one): id {body['transaction_id']}")
        p = probabilities[0]
        check(body["confidence"] == (p if p >= 0.5 else 1.0 - p), "score (one): not the model's confidence")
    status, body, _ = c.call("POST", "/v1/score", transactions)
    if check(status == 200 and isinstance(body, list) and len(body) == len(transactions),
             f"score (array): {status} {str(body)[:300]}"):
        for t, r, p in zip(transactions, body, probabilities):
            check(r.get("transaction_id") == t["id"] and r.get("is_fraudulent") == (1 if p >= 0.5 else 0),
                  f"score (array): {r} for {t}")
    status, body, _ = c.call("POST", "/v1/score", [transactions[0], {"id": 5}, "text", transactions[1]])
    if check(status == 422 and isinstance(body, list) and len(body) == 4, f"score (mixed): {status} {body}"):
        check("transaction_id" in body[0] and "transaction_id" in body[3], f"score (mixed): valid items {body}")
        for bad in (body[1], body[2]):
            check(bad.get("status") == 422 and isinstance(bad.get("error"), str), f"score (mixed): {bad}")
    status, body, _ = c.call("POST", "/v1/score", {"id": 1})
    check(status == 422 and body.get("status") == 422 and "customer_id" in body.get("error", ""),
          f"score (invalid one): {status} {body}")

    # Errors, each with its status and {"error": ...}.
    status, body, _ = c.call("POST", f"/v2/models/{model}/infer", raw=b"{not json")
    is_error(status, body, 400, "infer: malformed JSON")
    status, body, _ = c.call("POST", f"/v2/models/{model}/infer", {"inputs": "x"})
    is_error(status, body, 400, "infer: inputs of the wrong type")
    status, body, _ = c.call("POST", f"/v2/models/{model}/infer",
                             {"inputs": [{"name": "f", "datatype": "FP32", "shape": [1, 99], "data": [0] * 99}]})
    is_error(status, body, 400, "infer: wrong width")
    status, body, _ = c.call("POST", f"/v2/models/{model}/infer",
                             {"inputs": [{"name": "f", "datatype": "FP32", "shape": [1, width], "data": ["a"] * width}]})
    is_error(status, body, 400, "infer: strings in a number tensor")
    status, body, _ = c.call("POST", "/v2/models/nosuch/infer", request)
    is_error(status, body, 404, "infer: unknown model")
    status, body, _ = c.call("POST", f"/v2/models/{model}/versions/nosuch/infer", request)
    is_error(status, body, 404, "infer: unknown version")
    status, body, _ = c.call("GET", f"/v2/models/{model}/infer")
    is_error(status, body, 405, "infer: GET")
    status, body, _ = c.call("GET", "/v1/score")
    is_error(status, body, 405, "score: GET")
    status, body, _ = c.call("GET", "/nothing/here")
    is_error(status, body, 404, "unknown path")
    status, body, _ = c.call("POST", "/v1/score", raw=b"[1,2")
    is_error(status, body, 400, "score: malformed JSON")
    status, body, _ = c.call("POST", "/v1/score", [transactions[0]] * (args.max_items + 1))
    is_error(status, body, 413, "score: too many items")
    status, body, _ = c.call("POST", "/v1/score", raw=b" " * (args.max_body_bytes + 1))
    is_error(status, body, 413, "score: body over max_body_bytes")
    # The connection closed after the 413; a new one is served.
    c = Client(args.port)
    status, body, _ = c.call("GET", "/v2/health/live")
    check(status == 200, f"live after 413: {status}")

    for failure in FAILURES:
        print("FAILED:", failure, file=sys.stderr)
    print(f"{len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
