"""What the fake Kubernetes API server (fake_k8s.py) checks and parses: names, labels and selectors,
quantities, a Job's required fields, and the project's admission rule for plugin pods. Kept apart from
the server so that each module stays small; nothing here starts a thread or a container."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cube.runners.docker import INCOMING

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_EXPAND = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_KINDS = {"jobs": ("batch", "batch/v1"), "pods": ("", ""), "networkpolicies": ("networking.k8s.io", "")}


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_found(res: str, name: str) -> ApiError:
    group = _KINDS[res][0]
    return ApiError(404, "NotFound", f'{res}{"." + group if group else ""} "{name}" not found')


def quantity_milli(q: str) -> int:
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def quantity_mib(q: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if q.endswith(suffix):
            return int(float(q[: -len(suffix)]) * factor)
    return int(q) >> 20


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        ok = {"Exists": key in labels, "DoesNotExist": key not in labels,
              "In": labels.get(key) in values, "NotIn": labels.get(key) not in values}.get(op)
        if not ok:
            return False
    return True


def parse_label_selector(text: str) -> dict[str, Any]:
    sel: dict[str, Any] = {"matchLabels": {}, "matchExpressions": []}
    for term in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in term or term.startswith("!") or " " in term:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {term!r} (not supported by the fake)")
        key, eq, value = term.replace("==", "=").partition("=")
        if eq:
            sel["matchLabels"][key] = value
        else:
            sel["matchExpressions"].append({"key": key, "operator": "Exists"})
    return sel


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def check_security(pod: dict[str, Any]) -> list[str]:
    """What the project's admission rule finds wrong with a pod spec (empty: admitted)."""
    bad = []
    psc = pod.get("securityContext") or {}
    if pod.get("automountServiceAccountToken") is not False:
        bad.append("automountServiceAccountToken must be false")
    if pod.get("enableServiceLinks") is not False:
        bad.append("enableServiceLinks must be false")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            bad.append(f"{host} is not allowed")
    for c in pod.get("containers") or []:
        csc = c.get("securityContext") or {}
        name = c.get("name")
        if csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            bad.append(f"container {name}: runAsNonRoot must be true")
        if not csc.get("runAsUser", psc.get("runAsUser")) or not csc.get("runAsGroup", psc.get("runAsGroup")):
            bad.append(f"container {name}: runAsUser and runAsGroup must be set and non-zero")
        if csc.get("allowPrivilegeEscalation") is not False:
            bad.append(f"container {name}: allowPrivilegeEscalation must be false")
        if csc.get("privileged"):
            bad.append(f"container {name}: privileged is not allowed")
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
            bad.append(f"container {name}: capabilities must drop ALL and add none")
        seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            bad.append(f"container {name}: seccompProfile.type must be RuntimeDefault or Localhost")
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if not ("cpu" in limits and "memory" in limits):
            bad.append(f"container {name}: cpu and memory limits are required")
        if requests != limits:
            bad.append(f"container {name}: requests must equal limits")
        mounts = {m.get("mountPath"): m for m in c.get("volumeMounts") or []}
        if INCOMING in mounts and mounts[INCOMING].get("readOnly") is not True:
            bad.append(f"container {name}: the input mount {INCOMING} must be readOnly")
    return bad


def check_schema(job: dict[str, Any], ns: str) -> None:
    meta = job.get("metadata") or {}
    errors = []
    name = meta.get("name") or ""
    if not (DNS_LABEL.fullmatch(name) and len(name) <= 63):
        errors.append(f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 label, at most 63 characters")
    if meta.get("namespace") not in (None, ns):
        raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                                          "sent on the request")
    tmpl = (job.get("spec") or {}).get("template") or {}
    for key, value in {**(meta.get("labels") or {}), **((tmpl.get("metadata") or {}).get("labels") or {})}.items():
        if not (isinstance(value, str) and _LABEL_VALUE.fullmatch(value) and len(value) <= 63):
            errors.append(f"metadata.labels: Invalid value: {value!r} for {key}")
    pod = tmpl.get("spec") or {}
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        errors.append("spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"")
    containers = pod.get("containers") or []
    if len(containers) != 1:
        errors.append("spec.template.spec.containers: the fake runs exactly one container per pod")
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    for c in containers:
        if not c.get("name") or not c.get("image"):
            errors.append("spec.template.spec.containers[0]: name and image are required")
        for m in c.get("volumeMounts") or []:
            sub = m.get("subPath") or ""
            if m.get("name") not in volumes:
                errors.append(f"volumeMounts: Not found: {m.get('name')!r}")
            if sub.startswith("/") or ".." in sub.split("/"):
                errors.append(f"volumeMounts.subPath: Invalid value: {sub!r}: must be a relative path without '..'")
        for e in c.get("env") or []:
            if not e.get("name"):
                errors.append("env.name: Required value")
    for v in volumes.values():
        if not (v.get("hostPath") or v.get("persistentVolumeClaim")):
            errors.append(f"volumes: {v.get('name')!r}: the fake supports hostPath and persistentVolumeClaim only")
    deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
    if deadline is not None and (not isinstance(deadline, int) or deadline <= 0):
        errors.append("spec.activeDeadlineSeconds: must be greater than 0")
    if errors:
        raise ApiError(422, "Invalid", f'Job.batch "{name}" is invalid: ' + "; ".join(errors))


def expand(value: str, env: dict[str, str]) -> str:
    """The kubelet's expansion of $(VAR) in command and args; '$$' stands for '$'."""
    return _EXPAND.sub(lambda m: "$" if m[0] == "$$" else env.get(m[1], m[0]), value)


def immutable(job: dict[str, Any]) -> Any:
    spec = {k: v for k, v in job.get("spec", {}).items() if k not in ("suspend", "activeDeadlineSeconds", "parallelism")}
    return spec, job.get("metadata", {}).get("name"), job.get("metadata", {}).get("uid")


def denies_all(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    spec = policy.get("spec") or {}
    return (selects(spec.get("podSelector") or {}, labels) and set(spec.get("policyTypes") or []) >= {
        "Ingress", "Egress"} and not spec.get("ingress") and not spec.get("egress"))


