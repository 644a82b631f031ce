"""A fake Kubernetes API server for the KubernetesRunner tests: no cluster can be had on these machines.

It serves exactly the subset the runner speaks (batch/v1 jobs: create, get, list and delete with a
propagation policy, merge-patch; v1 pods: list by label selector, log; networking.k8s.io/v1
networkpolicies: get, create) and checks what a real API server checks on those paths: the bearer token,
the namespace, required fields and names, 404/409 answers, and error bodies shaped like Kubernetes'
``Status``. Jobs default to the API's *orphan* deletion, as real ones do, so a runner that forgets the
propagation policy leaves its pods running here too.

It also stands in for an admission policy enforcing the project's rule (what a ValidatingAdmissionPolicy
or the "restricted" Pod Security level would refuse): a Job whose pod is not confined (root, privilege
escalation, capabilities, seccomp, service-account token, service links, writable input, missing limits or
requests unequal to them) or that no deny-all NetworkPolicy selects is refused with 403 Forbidden.

Its job controller and "kubelet" are real: each pod's container runs through the project's DockerRunner on
the test container engine (podman), with the pod's image, command/args (with the kubelet's $(VAR)
expansion), env, user, mounts (hostPath, or PVC subPath resolved through ``pvcs``), limits and grace
period; the pod and Job report back as Kubernetes does (phase, containerStatuses[].state, exit codes,
OOMKilled, Job conditions Complete/Failed with DeadlineExceeded, Suspended). Limits of the fake: mounts
only at /share/incoming and /share/outgoing (what DockerRunner binds), one container per pod, and the
container gets no network whatever the NetworkPolicy says (DockerRunner's rule).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cube.runners.base import JobSpec, RunnerError
from cube.runners.docker import INCOMING, OUTGOING, DockerRunner

from .fake_k8s_checks import (
    DNS_LABEL,
    ApiError,
    check_schema,
    check_security,
    denies_all,
    expand,
    immutable,
    merge_patch,
    not_found,
    now,
    parse_label_selector,
    quantity_mib,
    quantity_milli,
    selects,
)

_ROUTE = re.compile(
    r"^/(?:api/v1|apis/(?P<group>batch/v1|networking\.k8s\.io/v1))/namespaces/(?P<ns>[^/]+)/"
    r"(?P<res>jobs|pods|networkpolicies)(?:/(?P<name>[^/]+))?(?P<log>/log)?$"
)


class FakeKubernetes:
    """The API server, its job controller and a one-node kubelet backed by ``docker_base_url``."""

    def __init__(self, docker_base_url: str, *, token: str = "test-token", namespaces: tuple[str, ...] = ("default",),
                 pvcs: dict[str, str] | None = None) -> None:
        self.docker_base_url = docker_base_url
        self.token = token
        self.namespaces = set(namespaces)
        self.pvcs = dict(pvcs or {})  # claim name -> the host directory its volume is
        self.lock = threading.RLock()
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.policies: dict[tuple[str, str], dict[str, Any]] = {}
        self.containers: dict[str, list[str]] = {}  # job name -> its pods' container ids (DockerRunner job ids)
        self.requests: list[tuple[str, str]] = []  # (method, path): what clients asked
        self._stop = threading.Event()
        self._docker = DockerRunner(docker_base_url, name_prefix="cube-k8s-", stop_grace_seconds=1)
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, tls: tuple[str, str] | None = None) -> FakeKubernetes:
        """Serve on a free loopback port; over HTTPS with ``tls`` = (certificate file, key file)."""
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        for target in (self._server.serve_forever, self._controller):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self.lock:
            for pod in self.pods.values():
                pod["_deleting"] = True
        for t in self._threads:
            t.join(timeout=30)
        self._docker.close()

    def job_containers_gone(self, job_name: str) -> bool:
        """Whether no container of the Job's pods is still running on the engine."""
        for name in self.containers.get(job_name, []):
            info = self._docker._inspect(name)
            if info is not None and (info.get("State") or {}).get("Running"):
                return False
        return True

    # -- the API -------------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            raise ApiError(401, "Unauthorized", "Unauthorized")
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        m = _ROUTE.match(parsed.path)
        if not m or (m["res"] == "jobs") != (m["group"] == "batch/v1") or (
                m["res"] == "networkpolicies") != (m["group"] == "networking.k8s.io/v1") or (
                m["log"] and m["res"] != "pods"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self.requests.append((method, parsed.path))
        ns, res, name = m["ns"], m["res"], m["name"]
        data = json.loads(body) if body else None
        with self.lock:
            if ns not in self.namespaces:
                raise ApiError(404, "NotFound", f'namespaces "{ns}" not found')
            if m["log"] and method == "GET":
                return self._pod_log(ns, name, query)
            if res == "jobs":
                return self._jobs(method, ns, name, query, data, headers)
            if res == "pods" and method == "GET" and name is None:
                for pod in self.pods.values():
                    self._relist(pod)
                return 200, self._list(self.pods, ns, query, "PodList", "v1")
            if res == "networkpolicies":
                return self._policies(method, ns, name, data)
        raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on {res}")

    def _list(self, store: dict[tuple[str, str], dict[str, Any]], ns: str, query: dict[str, str], kind: str,
              api: str) -> dict[str, Any]:
        sel = parse_label_selector(query.get("labelSelector", ""))
        items = [_public(o) for (n, _), o in store.items() if n == ns and selects(sel, o["metadata"].get("labels") or {})]
        return {"kind": kind, "apiVersion": api, "metadata": {}, "items": items}

    def _jobs(self, method: str, ns: str, name: str | None, query: dict[str, str], data: Any,
              headers: Any) -> tuple[int, Any]:
        if name is None and method == "GET":
            return 200, self._list(self.jobs, ns, query, "JobList", "batch/v1")
        if name is None and method == "POST":
            return self._create_job(ns, data)
        job = self.jobs.get((ns, name or ""))
        if job is None:
            raise not_found("jobs", name or "")
        if method == "GET":
            return 200, _public(job)
        if method == "PATCH":
            if headers.get("Content-Type", "").split(";")[0] != "application/merge-patch+json":
                raise ApiError(415, "UnsupportedMediaType", "the fake accepts application/merge-patch+json")
            patched = merge_patch(job, data)
            if immutable(patched) != immutable(job):
                raise ApiError(422, "Invalid", f'Job.batch "{name}" is invalid: spec.template: field is immutable')
            job.clear()
            job.update(patched)
            return 200, _public(job)
        if method == "DELETE":
            policy = query.get("propagationPolicy") or (data or {}).get("propagationPolicy") or "Orphan"
            if policy not in ("Orphan", "Background", "Foreground"):
                raise ApiError(400, "BadRequest", f"invalid propagationPolicy {policy!r}")
            if policy == "Foreground":  # the Job stays, marked, until its pods are gone
                job["metadata"]["deletionTimestamp"] = now()
                job["metadata"]["finalizers"] = ["foregroundDeletion"]
            else:
                del self.jobs[(ns, name or "")]
            self._delete_pods(ns, job, orphan=policy == "Orphan")
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success",
                         "details": {"name": name, "group": "batch", "kind": "jobs"}}
        raise ApiError(405, "MethodNotAllowed", "method not allowed on a job")

    def _create_job(self, ns: str, job: Any) -> tuple[int, Any]:
        if not isinstance(job, dict) or job.get("kind") != "Job" or job.get("apiVersion") != "batch/v1":
            raise ApiError(400, "BadRequest", "the body must be a batch/v1 Job")
        check_schema(job, ns)
        name = job["metadata"]["name"]
        if (ns, name) in self.jobs:
            raise ApiError(409, "AlreadyExists", f'jobs.batch "{name}" already exists')
        pod = job["spec"]["template"]["spec"]
        bad = check_security(pod)
        labels = (job["spec"]["template"].get("metadata") or {}).get("labels") or {}
        if not any(denies_all(p, labels) for (n, _), p in self.policies.items() if n == ns):
            bad.append("no deny-all NetworkPolicy selects the pod")
        if bad:
            raise ApiError(403, "Forbidden", f'jobs.batch "{name}" is forbidden: ' + "; ".join(bad))
        uid = str(uuid.uuid4())
        job["metadata"].update(namespace=ns, uid=uid, creationTimestamp=now())
        job["spec"].setdefault("suspend", False)
        job["spec"]["selector"] = {"matchLabels": {"controller-uid": uid}}
        job["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(
            {"controller-uid": uid, "job-name": name, "batch.kubernetes.io/job-name": name})
        job["status"] = {}
        self.jobs[(ns, name)] = job
        return 201, _public(job)

    def _policies(self, method: str, ns: str, name: str | None, data: Any) -> tuple[int, Any]:
        if method == "GET" and name:
            if (ns, name) not in self.policies:
                raise not_found("networkpolicies", name)
            return 200, self.policies[(ns, name)]
        if method == "POST" and name is None:
            pname = ((data or {}).get("metadata") or {}).get("name") or ""
            if not DNS_LABEL.fullmatch(pname) or "podSelector" not in ((data or {}).get("spec") or {}):
                raise ApiError(422, "Invalid", "NetworkPolicy needs metadata.name and spec.podSelector")
            if (ns, pname) in self.policies:
                raise ApiError(409, "AlreadyExists", f'networkpolicies.networking.k8s.io "{pname}" already exists')
            data["metadata"].update(namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now())
            self.policies[(ns, pname)] = data
            return 201, data
        raise ApiError(405, "MethodNotAllowed", "method not allowed on networkpolicies")

    def _pod_log(self, ns: str, name: str, query: dict[str, str]) -> tuple[int, Any]:
        pod = self.pods.get((ns, name))
        if pod is None:
            raise not_found("pods", name)
        container = pod["spec"]["containers"][0]["name"]
        if query.get("container", container) != container:
            raise ApiError(400, "BadRequest", f"container {query['container']} is not valid for pod {name}")
        if not pod.get("_container_started"):
            raise ApiError(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start')
        return 200, self._docker.logs(pod["_container"]).encode()

    # -- the controller and the kubelet ---------------------------------------------------------

    def _delete_pods(self, ns: str, job: dict[str, Any], orphan: bool = False) -> None:
        uid = job["metadata"]["uid"]
        for pod in self.pods.values():
            if pod["metadata"]["namespace"] == ns and pod["metadata"]["labels"].get("controller-uid") == uid:
                if not orphan:
                    pod["_deleting"] = True

    def _controller(self) -> None:
        while not self._stop.wait(0.05):
            with self.lock:
                for key, job in list(self.jobs.items()):
                    self._reconcile(key, job)

    def _reconcile(self, key: tuple[str, str], job: dict[str, Any]) -> None:
        ns, name = key
        spec, status = job["spec"], job["status"]
        pods = [p for p in self.pods.values() if p["metadata"]["namespace"] == ns
                and p["metadata"]["labels"].get("controller-uid") == job["metadata"]["uid"]]
        conds = {c["type"] for c in status.get("conditions", [])}
        if job["metadata"].get("deletionTimestamp"):
            if not pods:
                del self.jobs[key]
            return
        finished = conds & {"Complete", "Failed"}
        if finished:
            ttl = spec.get("ttlSecondsAfterFinished")
            if ttl is not None and time.time() - status["_finished"] >= ttl:
                del self.jobs[key]
                self._delete_pods(ns, job)
            return
        if spec.get("suspend"):
            for p in pods:
                p["_deleting"] = True
            if "Suspended" not in conds:
                status.setdefault("conditions", []).append(_condition("Suspended", "JobSuspended", "Job suspended"))
                status.pop("startTime", None)
            status["active"] = 0
            return
        status.setdefault("startTime", now())
        status.setdefault("_started", time.time())
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and time.time() - status["_started"] >= deadline:
            for p in pods:
                p["_deleting"] = True
            self._finish(job, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
            return
        if not pods:
            self._create_pod(ns, job)
            return
        phase = pods[0]["status"].get("phase")
        if phase == "Succeeded":
            status["succeeded"] = 1
            self._finish(job, "Complete", "", "")
        elif phase == "Failed":
            status["failed"] = 1
            self._finish(job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        status["active"] = 0 if phase in ("Succeeded", "Failed") else 1

    @staticmethod
    def _finish(job: dict[str, Any], ctype: str, reason: str, message: str) -> None:
        job["status"].setdefault("conditions", []).append(_condition(ctype, reason, message))
        job["status"]["completionTime" if ctype == "Complete" else "_failedTime"] = now()
        job["status"]["_finished"] = time.time()
        job["status"]["active"] = 0

    def _create_pod(self, ns: str, job: dict[str, Any]) -> None:
        name = f"{job['metadata']['name'][:57]}-{uuid.uuid4().hex[:5]}"
        tmpl = json.loads(json.dumps(job["spec"]["template"]))
        pod = {"kind": "Pod", "apiVersion": "v1",
               "metadata": {**tmpl.get("metadata", {}), "name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                            "creationTimestamp": now()},
               "spec": tmpl["spec"], "status": {"phase": "Pending"}, "_container": f"{name}"}
        self.pods[(ns, name)] = pod
        self.containers.setdefault(job["metadata"]["name"], []).append(name)
        t = threading.Thread(target=self._kubelet, args=((ns, name),), daemon=True)
        t.start()
        self._threads.append(t)

    def _container_spec(self, pod: dict[str, Any]) -> tuple[JobSpec, str, int] | str:
        """The DockerRunner job for the pod's container (spec, "uid:gid", grace), or why it cannot run."""
        spec, c = pod["spec"], pod["spec"]["containers"][0]
        psc, csc = spec.get("securityContext") or {}, c.get("securityContext") or {}
        env = {e["name"]: e.get("value", "") for e in c.get("env") or []}
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        paths = {}
        for m in c.get("volumeMounts") or []:
            vol = volumes[m["name"]]
            if "hostPath" in vol:
                base = vol["hostPath"]["path"]
            elif vol["persistentVolumeClaim"]["claimName"] in self.pvcs:
                base = self.pvcs[vol["persistentVolumeClaim"]["claimName"]]
            else:
                return f'persistentvolumeclaim "{vol["persistentVolumeClaim"]["claimName"]}" not found'
            path = Path(base, m.get("subPath") or "")
            if not path.is_dir():
                return f"MountVolume.SetUp failed: {path} is not a directory"
            paths[m["mountPath"]] = str(path)
        if set(paths) != {INCOMING, OUTGOING}:
            return f"the fake kubelet mounts exactly {INCOMING} and {OUTGOING}"
        limits = c["resources"]["limits"]
        if int(limits.get("nvidia.com/gpu", 0)):
            return "0/1 nodes are available: 1 Insufficient nvidia.com/gpu"
        user = f"{csc.get('runAsUser', psc.get('runAsUser'))}:{csc.get('runAsGroup', psc.get('runAsGroup'))}"
        # DockerRunner appends its own mount points; the pod's args already end with the same two.
        args = [expand(a, env) for a in c.get("args") or []]
        if args[-2:] != [INCOMING, OUTGOING]:
            return f"the fake kubelet needs args ending in {INCOMING} {OUTGOING}"
        js = JobSpec(
            job_id=pod["_container"], entrypoint=[expand(a, env) for a in c.get("command") or []], args=args[:-2],
            input_dir=paths[INCOMING], output_dir=paths[OUTGOING], image=c["image"], env=env,
            cpu_limit_millicores=quantity_milli(limits["cpu"]), memory_limit_mb=quantity_mib(limits["memory"]),
        )
        return js, user, int(spec.get("terminationGracePeriodSeconds", 30))

    def _set(self, key: tuple[str, str], phase: str, state: dict[str, Any], image: str = "") -> None:
        with self.lock:
            pod = self.pods.get(key)
            if pod is not None:
                pod["status"] = {"phase": phase, "containerStatuses": [
                    {"name": pod["spec"]["containers"][0]["name"], "image": image, "state": state}]}
                pod["_container_started"] = "running" in state or "terminated" in state

    def _kubelet(self, key: tuple[str, str]) -> None:
        with self.lock:
            pod = self.pods[key]
            translated = self._container_spec(pod)
            image = pod["spec"]["containers"][0]["image"]
        if isinstance(translated, str):
            reason = "Unschedulable" if "Insufficient" in translated else "ContainerCreating"
            self._set(key, "Pending", {"waiting": {"reason": reason, "message": translated}}, image)
            return self._wait_deleted(key, None, 0)
        js, user, grace = translated
        runner = DockerRunner(self.docker_base_url, user=user, name_prefix=self._docker.name_prefix)
        try:
            with self.lock:
                pod["_starting"] = True
            runner.submit(js)
        except RunnerError as exc:
            if "not found" in str(exc) and "image" in str(exc):
                self._set(key, "Pending", {"waiting": {"reason": "ErrImagePull", "message": str(exc)}}, image)
                return self._wait_deleted(key, runner, grace)
            self._set(key, "Failed", {"terminated": {"exitCode": 128, "reason": "StartError", "message": str(exc)}},
                      image)
            return self._wait_deleted(key, runner, grace)
        with self.lock:
            pod["_starting"] = False
            if not pod.get("_container_started"):
                self._set(key, "Running", {"running": {"startedAt": now()}}, image)
        while True:
            if self._deleting(key):
                return self._wait_deleted(key, runner, grace)
            st = runner.status(js.job_id)
            if st.state.finished:
                info = runner._inspect(js.job_id) or {}
                state = info.get("State") or {}
                code = state.get("ExitCode", st.exit_code)
                # podman 4.3 here leaves State.OOMKilled false (conmon's marker goes elsewhere), and this
                # kubelet kills a container only when deleting its pod: an exit by SIGKILL while the pod
                # lives is the cgroup's OOM killer, which a real kubelet reports as OOMKilled.
                oom = state.get("OOMKilled") or code == 137
                reason = "Completed" if code == 0 else "OOMKilled" if oom else "Error"
                self._set(key, "Succeeded" if code == 0 else "Failed",
                          {"terminated": {"exitCode": code, "reason": reason, "finishedAt": now()}}, image)
                return self._wait_deleted(key, runner, grace)
            time.sleep(0.05)

    def _relist(self, pod: dict[str, Any]) -> None:
        """Like a kubelet's relist of the runtime: a container that is already running while its start
        call has not returned yet is reported Running (a job can act before that call returns)."""
        if pod.get("_starting") and not pod.get("_container_started"):
            info = self._docker._inspect(pod["_container"])
            if info is not None and (info.get("State") or {}).get("Running"):
                key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
                self._set(key, "Running", {"running": {"startedAt": now()}}, pod["spec"]["containers"][0]["image"])

    def _deleting(self, key: tuple[str, str]) -> bool:
        with self.lock:
            pod = self.pods.get(key)
            return pod is None or bool(pod.get("_deleting")) or self._stop.is_set()

    def _wait_deleted(self, key: tuple[str, str], runner: DockerRunner | None, grace: int) -> None:
        """Keep the pod (and its container, for logs) until it is deleted; then stop and remove both."""
        while not self._deleting(key):
            time.sleep(0.05)
        if runner is not None:
            name = runner.name_prefix + self.pods[key]["_container"]
            try:
                runner.api.stop(name, timeout=grace)  # SIGTERM, SIGKILL after the grace period
            except Exception:  # noqa: BLE001, S110 - already stopped or never created
                pass
            runner.remove(self.pods[key]["_container"])
            runner.close()
        with self.lock:
            self.pods.pop(key, None)


def _condition(ctype: str, reason: str, message: str) -> dict[str, str]:
    return {"type": ctype, "status": "True", "reason": reason, "message": message,
            "lastTransitionTime": now(), "lastProbeTime": now()}


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API shows it: without the fake's private bookkeeping (keys starting with '_')."""
    out = {k: v for k, v in obj.items() if not k.startswith("_")}
    if isinstance(out.get("status"), dict):
        out["status"] = {k: v for k, v in out["status"].items() if not k.startswith("_")}
    return json.loads(json.dumps(out))


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeKubernetes
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            code, payload = self.server_fake.handle(self.command, self.path, self.headers, body)
        except ApiError as exc:
            code, payload = exc.code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                       "message": exc.message, "reason": exc.reason, "code": exc.code}
        except (ValueError, KeyError, TypeError) as exc:
            code, payload = 400, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": f"malformed request: {exc}", "reason": "BadRequest", "code": 400}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if isinstance(payload, bytes) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's names
