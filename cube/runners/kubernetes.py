"""KubernetesRunner: each plugin job is a ``batch/v1`` Job, spoken to over the Kubernetes REST API.

Plain ``requests`` rather than the kubernetes client package: the runner needs a dozen calls, and the
client would pull in a large dependency tree for them. Every fact status/logs/cancel/remove need lives on
the cluster, found again by the Job's name, which is derived from the job id alone (:func:`job_name`):

* the Job carries label ``chrisproject.org/job`` (also on its pods, which the NetworkPolicy selects), the
  full job id, the spec's labels and the memory limit as annotations;
* **cancel** merge-patches the Job with the annotation ``chrisproject.org/cancelled`` and
  ``spec.suspend: true`` in one request. Suspending makes the Job controller delete the Job's pods (after
  their grace period) while the Job object stays, so the cancel is recorded durably on the object status()
  reads, and the id stays taken until remove(), as for every finished job. Deleting the Job instead would
  lose the record (status would say UNKNOWN);
* **remove** deletes the Job with ``propagationPolicy=Background``: the Job goes at once and the garbage
  collector deletes its pods, so status() says UNKNOWN straight away.

Job directories reach the pod in one of two ways (option ``volume_mode``):

* ``hostPath``: the input and output directories exist at the same paths on every node (a shared
  filesystem mounted alike everywhere); each is a hostPath volume;
* ``pvc``: a PersistentVolumeClaim (``pvc_name``) holds the jobs directory that this host mounts at
  ``pvc_host_dir``; the input and output dirs must lie under it and are mounted by ``subPath``.

Confinement follows the project rule (no network, no root, limits, no long-lived credentials): a fixed
non-root uid/gid, no privilege escalation, all capabilities dropped, the RuntimeDefault seccomp profile,
no service-account token and no service-link env vars, a read-only input, requests equal to limits, and a
deny-all NetworkPolicy for every pod with the job label (created once per namespace if missing).
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import requests

from .base import (
    JobSpec,
    JobState,
    JobStatus,
    Runner,
    RunnerError,
    check_container_spec,
    check_job_id,
    make_output_writable,
)

JOB_LABEL = "chrisproject.org/job"
JOB_ID_ANNOTATION = "chrisproject.org/job-id"
CANCELLED_ANNOTATION = "chrisproject.org/cancelled"
MEMORY_ANNOTATION = "chrisproject.org/memory-mb"
NETWORK_POLICY = "cube-jobs-deny-all"
CONTAINER = "job"
INCOMING = "/share/incoming"
OUTGOING = "/share/outgoing"
# What a kubelet reports while it cannot get the image: none of these resolves without a human.
_IMAGE_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
_CONFIG_ERRORS = ("CreateContainerConfigError", "CreateContainerError", "RunContainerError")
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def job_name(job_id: str, prefix: str = "cube-") -> str:
    """The Job's name: a DNS-1123 label (<= 63 chars, lowercase) made from the id, unique by its hash.

    Job ids allow upper case, '_', '.' and 200 characters; Job names and label values do not. The hash
    of the exact id keeps "Job_1" and "job-1" apart; the slug keeps names readable in kubectl.
    """
    check_job_id(job_id)
    digest = hashlib.sha256(job_id.encode()).hexdigest()[:10]
    slug = _NOT_DNS.sub("-", job_id.lower()).strip("-")[:30].strip("-")
    return f"{prefix}{slug}-{digest}" if slug else f"{prefix}{digest}"


def _escape_expansion(value: str) -> str:
    # The kubelet expands $(VAR) in command and args from the container's env; '$$' is its escape. Plugin
    # arguments are user input and must reach the plugin as typed.
    return value.replace("$", "$$")


def _parse_user(user: str) -> tuple[int, int]:
    uid, _, gid = user.partition(":")
    try:
        ids = int(uid), int(gid or uid)
    except ValueError:
        raise RunnerError(f"run_as must be numeric 'uid:gid', not {user!r}") from None
    if 0 in ids:
        raise RunnerError("run_as must name a non-root uid and gid")
    return ids


class KubernetesRunner(Runner):
    """Runs each job as a Kubernetes Job in ``namespace``.

    Options: ``api_url`` (e.g. ``https://kubernetes.default.svc``), ``token`` or ``token_file`` (bearer
    token; the file is read on every request because projected service-account tokens are rotated),
    ``ca_bundle`` (PEM file to verify the API server) or ``insecure`` (skip verification), ``namespace``,
    ``volume_mode`` ("hostPath" or "pvc") with ``pvc_name`` and ``pvc_host_dir``, ``run_as``
    ("uid:gid", never root), ``name_prefix``, ``ttl_seconds_after_finished`` (None: finished Jobs stay
    until remove(); with a TTL the cluster deletes them and status turns UNKNOWN), ``stop_grace_seconds``
    (terminationGracePeriodSeconds), ``network_policy`` (create the deny-all policy when missing),
    ``api_timeout`` (seconds per request).
    """

    def __init__(
        self,
        api_url: str = "https://kubernetes.default.svc",
        *,
        token: str | None = None,
        token_file: str | None = None,
        ca_bundle: str | None = None,
        insecure: bool = False,
        namespace: str = "default",
        volume_mode: str = "hostPath",
        pvc_name: str | None = None,
        pvc_host_dir: str | None = None,
        run_as: str = "1000:1000",
        name_prefix: str = "cube-",
        ttl_seconds_after_finished: int | None = None,
        stop_grace_seconds: int = 10,
        network_policy: bool = True,
        api_timeout: float = 30,
        **options: object,
    ) -> None:
        super().__init__(api_url=api_url, namespace=namespace, **options)
        if volume_mode not in ("hostPath", "pvc"):
            raise RunnerError(f"volume_mode must be 'hostPath' or 'pvc', not {volume_mode!r}")
        if volume_mode == "pvc" and not (pvc_name and pvc_host_dir):
            raise RunnerError("volume_mode 'pvc' needs pvc_name and pvc_host_dir")
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.token_file = token_file
        self.verify: bool | str = ca_bundle or not insecure
        self.namespace = namespace
        self.volume_mode = volume_mode
        self.pvc_name = pvc_name
        self.pvc_host_dir = os.path.abspath(pvc_host_dir) if pvc_host_dir else None
        self.uid, self.gid = _parse_user(run_as)
        self.name_prefix = name_prefix
        self.ttl = ttl_seconds_after_finished
        self.stop_grace_seconds = stop_grace_seconds
        self.network_policy = network_policy
        self.api_timeout = api_timeout
        self._session = requests.Session()
        self._policy_checked = False  # only saves a GET per submit; nothing status() relies on

    # -- HTTP ----------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        token = self.token
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as fh:
                    token = fh.read().strip()
            except OSError as exc:
                raise RunnerError(f"cannot read the Kubernetes token file: {exc}") from exc
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _request(self, method: str, path: str, *, allow: tuple[int, ...] = (), what: str = "",
                 **kw: Any) -> requests.Response | None:
        """One API call; None for an error status in ``allow``; RunnerError with the server's message for
        any other error (``what`` says what was being done)."""
        headers = {**self._headers(), **kw.pop("headers", {})}
        try:
            resp = self._session.request(
                method, self.api_url + path, headers=headers, verify=self.verify, timeout=self.api_timeout, **kw,
            )
        except requests.RequestException as exc:
            raise RunnerError(f"Kubernetes API unreachable at {self.api_url}: {exc}") from exc
        if resp.status_code >= 400:
            if resp.status_code in allow:
                return None
            what = what or f"{method} {path}"
            raise RunnerError(f"Kubernetes API refused to {what} ({resp.status_code}): {_message(resp)}")
        return resp

    def _ns(self, group: str, resource: str, name: str = "") -> str:
        base = "/api/v1" if group == "" else f"/apis/{group}"
        return f"{base}/namespaces/{self.namespace}/{resource}" + (f"/{name}" if name else "")

    def _get_job(self, job_id: str) -> dict[str, Any] | None:
        resp = self._request("GET", self._ns("batch/v1", "jobs", self.job_name(job_id)), allow=(404,))
        job: dict[str, Any] | None = resp.json() if resp is not None else None
        return job

    def _pods(self, name: str) -> list[dict[str, Any]]:
        """The Job's pods, newest first."""
        resp = self._request("GET", self._ns("", "pods"), params={"labelSelector": f"{JOB_LABEL}={name}"})
        assert resp is not None
        pods: list[dict[str, Any]] = resp.json().get("items") or []
        return sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)

    def job_name(self, job_id: str) -> str:
        return job_name(job_id, self.name_prefix)

    # -- the manifest --------------------------------------------------------------------------

    def _volumes(self, spec: JobSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        inp, out = os.path.abspath(spec.input_dir), os.path.abspath(spec.output_dir)
        if self.volume_mode == "hostPath":
            volumes: list[dict[str, Any]] = [
                {"name": "incoming", "hostPath": {"path": inp, "type": "Directory"}},
                {"name": "outgoing", "hostPath": {"path": out, "type": "Directory"}},
            ]
            mounts: list[dict[str, Any]] = [
                {"name": "incoming", "mountPath": INCOMING, "readOnly": True},
                {"name": "outgoing", "mountPath": OUTGOING},
            ]
            return volumes, mounts
        assert self.pvc_host_dir is not None
        subs = []
        for path in (inp, out):
            rel = os.path.relpath(path, self.pvc_host_dir)
            if rel == "." or rel.startswith(".." + os.sep) or rel == ".." or os.path.isabs(rel):
                raise RunnerError(f"job directory {path} is not under the PVC's host directory {self.pvc_host_dir}")
            subs.append(rel)
        volumes = [{"name": "jobs", "persistentVolumeClaim": {"claimName": self.pvc_name}}]
        mounts = [
            {"name": "jobs", "mountPath": INCOMING, "subPath": subs[0], "readOnly": True},
            {"name": "jobs", "mountPath": OUTGOING, "subPath": subs[1]},
        ]
        return volumes, mounts

    def manifest(self, spec: JobSpec) -> dict[str, Any]:
        """The Job submit() creates for ``spec``."""
        name = self.job_name(spec.job_id)
        volumes, mounts = self._volumes(spec)
        resources: dict[str, str] = {
            "cpu": f"{spec.cpu_limit_millicores}m",
            "memory": f"{spec.memory_limit_mb}Mi",
        }
        if spec.gpu_limit > 0:
            resources["nvidia.com/gpu"] = str(spec.gpu_limit)
        container = {
            "name": CONTAINER,
            "image": spec.image,
            "command": [_escape_expansion(a) for a in spec.entrypoint],
            "args": [_escape_expansion(a) for a in [*spec.args, INCOMING, OUTGOING]],
            "env": [{"name": k, "value": v} for k, v in spec.env.items()],
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            "volumeMounts": mounts,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": self.uid,
                "runAsGroup": self.gid,
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
        pod_spec = {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": self.stop_grace_seconds,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": self.uid,
                "runAsGroup": self.gid,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": volumes,
        }
        job_spec: dict[str, Any] = {
            "backoffLimit": 0,  # a plugin that failed once fails; the job engine decides on retries
            "template": {"metadata": {"labels": {JOB_LABEL: name}}, "spec": pod_spec},
        }
        if spec.timeout_seconds:
            job_spec["activeDeadlineSeconds"] = spec.timeout_seconds
        if self.ttl is not None:
            job_spec["ttlSecondsAfterFinished"] = self.ttl
        # Spec labels are free-form (values need not be valid label values): annotations take them all.
        annotations = {**spec.labels, JOB_ID_ANNOTATION: spec.job_id, MEMORY_ANNOTATION: str(spec.memory_limit_mb)}
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "labels": {JOB_LABEL: name}, "annotations": annotations},
            "spec": job_spec,
        }

    def network_policy_manifest(self) -> dict[str, Any]:
        """Deny all ingress and egress for every pod carrying the job label: no rules means no traffic."""
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": NETWORK_POLICY},
            "spec": {
                "podSelector": {"matchExpressions": [{"key": JOB_LABEL, "operator": "Exists"}]},
                "policyTypes": ["Ingress", "Egress"],
            },
        }

    def _ensure_network_policy(self) -> None:
        if self._policy_checked or not self.network_policy:
            return
        path = self._ns("networking.k8s.io/v1", "networkpolicies")
        resp = self._request("GET", f"{path}/{NETWORK_POLICY}", allow=(404,))
        if resp is None:
            # 409: another worker created it in between, and it is checked on the next runner's first use
            self._request("POST", path, json=self.network_policy_manifest(), allow=(409,),
                          what=f"create NetworkPolicy {NETWORK_POLICY}")
        else:
            # A policy of our name that lets traffic through would silently void the rule: refuse.
            have = resp.json().get("spec") or {}
            want = self.network_policy_manifest()["spec"]
            if (have.get("podSelector") != want["podSelector"] or set(have.get("policyTypes") or []) != {
                    "Ingress", "Egress"} or have.get("ingress") or have.get("egress")):
                raise RunnerError(f"NetworkPolicy {NETWORK_POLICY} in {self.namespace} does not deny all traffic")
        self._policy_checked = True

    # -- the contract --------------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> None:
        check_job_id(spec.job_id)
        check_container_spec(spec)
        manifest = self.manifest(spec)
        self._ensure_network_policy()
        try:
            make_output_writable(spec.output_dir, self.uid, self.gid)
        except OSError as exc:
            raise RunnerError(f"output directory of job {spec.job_id} unusable: {exc}") from exc
        created = self._request("POST", self._ns("batch/v1", "jobs"), json=manifest, allow=(409,),
                                what=f"create the Job of job {spec.job_id}")
        if created is None:
            raise RunnerError(f"job {spec.job_id} already exists")

    def status(self, job_id: str) -> JobStatus:
        job = self._get_job(job_id)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return JobStatus(JobState.UNKNOWN, message="no such job")
        meta, jspec, jstatus = job["metadata"], job.get("spec") or {}, job.get("status") or {}
        if (meta.get("annotations") or {}).get(CANCELLED_ANNOTATION):
            return JobStatus(JobState.CANCELLED, message="cancelled")
        conditions = {c.get("type"): c for c in jstatus.get("conditions") or [] if c.get("status") == "True"}
        if "Complete" in conditions:
            return JobStatus(JobState.SUCCEEDED, 0)
        failed = conditions.get("Failed")
        if failed is not None and failed.get("reason") == "DeadlineExceeded":
            return JobStatus(JobState.FAILED, None, f"timed out after {jspec.get('activeDeadlineSeconds')} s")
        pods = self._pods(meta["name"])
        memory = (meta.get("annotations") or {}).get(MEMORY_ANNOTATION, "?")
        from_pod = _pod_status(pods[0], memory) if pods else None
        if from_pod is not None and (from_pod.state.finished or failed is None):
            return from_pod
        if failed is not None:
            why = failed.get("message") or failed.get("reason") or "the Job failed"
            return JobStatus(JobState.FAILED, None, f"failed: {why}")
        return JobStatus(JobState.PENDING)

    def logs(self, job_id: str) -> str:
        job = self._get_job(job_id)
        if job is None:
            return ""
        for pod in self._pods(job["metadata"]["name"]):
            path = self._ns("", "pods", pod["metadata"]["name"]) + "/log"
            # 400: the container has not started yet, so it printed nothing so far
            resp = self._request("GET", path, params={"container": CONTAINER}, allow=(400, 404))
            return resp.text if resp is not None else ""
        return ""

    def cancel(self, job_id: str) -> None:
        job = self._get_job(job_id)
        if job is None:
            return
        conditions = {c.get("type") for c in (job.get("status") or {}).get("conditions") or []
                      if c.get("status") == "True"}
        st = self.status(job_id)
        if conditions & {"Complete", "Failed"} or st.state in (JobState.SUCCEEDED, JobState.CANCELLED) or (
                st.state == JobState.FAILED and st.exit_code is not None):
            return  # its container ended, or it was cancelled already: nothing to stop
        # A FAILED without an exit code (an image that cannot be pulled) is still an active Job whose
        # kubelet keeps retrying: that one is stopped and recorded as cancelled like a running one.
        patch = {"metadata": {"annotations": {CANCELLED_ANNOTATION: "true"}}, "spec": {"suspend": True}}
        self._request(
            "PATCH", self._ns("batch/v1", "jobs", job["metadata"]["name"]), allow=(404,), json=patch,
            headers={"Content-Type": "application/merge-patch+json"},
        )

    def remove(self, job_id: str) -> None:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        self._request("DELETE", self._ns("batch/v1", "jobs", self.job_name(job_id)), allow=(404,), json=body)

    def close(self) -> None:
        self._session.close()


def _pod_status(pod: dict[str, Any], memory: str) -> JobStatus | None:
    """What the newest pod says of the job, or None when it says nothing yet."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    cs = next((s for s in statuses if s.get("name") == CONTAINER), None)
    phase = (pod.get("status") or {}).get("phase")
    if cs is None:
        return JobStatus(JobState.RUNNING) if phase == "Running" else None
    state = cs.get("state") or {}
    waiting, term = state.get("waiting"), state.get("terminated")
    if waiting:
        reason, msg = waiting.get("reason") or "", waiting.get("message") or ""
        if reason in _IMAGE_ERRORS:
            return JobStatus(JobState.FAILED, None, f"cannot pull image {cs.get('image', '')}: {reason} {msg}".strip())
        if reason in _CONFIG_ERRORS:
            return JobStatus(JobState.FAILED, None, f"cannot start: {reason} {msg}".strip())
        return JobStatus(JobState.PENDING)
    if term:
        code = term.get("exitCode")
        reason = term.get("reason") or ""
        if code == 0:
            return JobStatus(JobState.SUCCEEDED, 0)
        if reason == "OOMKilled":
            return JobStatus(JobState.FAILED, code, f"out of memory (limit {memory} MiB)")
        if reason in ("StartError", "ContainerCannotRun"):
            return JobStatus(JobState.FAILED, code, f"cannot start: {term.get('message') or reason}")
        if code == 137:  # SIGKILL the kubelet did not attribute to the OOM killer: say so, not just a number
            return JobStatus(JobState.FAILED, code, f"killed (SIGKILL, exit code 137); memory limit {memory} MiB")
        return JobStatus(JobState.FAILED, code, f"exited with code {code}")
    if state.get("running"):
        return JobStatus(JobState.RUNNING)
    return None


def _message(resp: requests.Response) -> str:
    """The message of a Kubernetes Status error body, or the start of whatever else came back."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:500] or resp.reason
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return resp.text[:500]
