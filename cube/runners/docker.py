"""DockerRunner: plugin jobs as containers, through the Docker API of dockerd or podman.

podman's ``podman system service`` speaks the Docker-compatible API, so one adapter built on the
``docker`` SDK serves both. Every fact status/logs/cancel/remove need lives on the container itself,
found again by its name (``<name_prefix><job_id>``):

* labels ``org.chrisproject.job`` (+ the spec's labels), and the timeout and memory limit, so a
  restarted worker can still enforce the one and explain the other;
* cancel() renames the container to ``<name>.cancelled`` before stopping it: a stopped container
  does not otherwise say whether it was asked to stop, and the name is the one thing both engines let
  us change on an existing container.

The timeout is enforced when status() is asked (the job engine polls it): a container running past
its timeout is killed there, and a non-zero exit after at least ``timeout`` seconds reads "timed out".

The output directory is bind-mounted read-write and must be writable by the container user: when this
process runs as root it chowns the (fresh, empty) output directory to that user; otherwise it adds
world-write permission to the directory only when the container user is not its owner.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.types import DeviceRequest

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

JOB_LABEL = "org.chrisproject.job"
TIMEOUT_LABEL = "org.chrisproject.timeout"
MEMORY_LABEL = "org.chrisproject.memory_mb"
INCOMING = "/share/incoming"
OUTGOING = "/share/outgoing"
_CANCELLED = ".cancelled"
_START_GRACE_SECONDS = 120
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?")
_UNREACHABLE = (docker.errors.DockerException, requests.exceptions.RequestException)


def _parse_time(text: str | None) -> float | None:
    """Seconds since the epoch of an engine timestamp (nanosecond RFC 3339); None when unset."""
    m = _TIME.match(text or "")
    if not m or m.group(1).startswith("0001-"):
        return None
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = m.group(3) or "Z"
    zone = "+00:00" if zone == "Z" else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{zone}").timestamp()


def _parse_user(user: str) -> tuple[int, int]:
    uid, _, gid = user.partition(":")
    try:
        return int(uid), int(gid or uid)
    except ValueError:
        raise RunnerError(f"container user must be numeric 'uid:gid', not {user!r}") from None


class DockerRunner(Runner):
    """Runs each job as one detached container with no network, no privileges and a numeric user.

    Options: ``base_url`` (e.g. ``unix:///run/podman/podman.sock``; None: DOCKER_HOST or the default
    socket), ``user`` ("uid:gid"; default: the output directory's owner, or 1000:1000 when that is
    root), ``name_prefix``, ``pids_limit``, ``stop_grace_seconds`` (SIGTERM to SIGKILL on cancel),
    ``api_timeout`` (seconds per API call), ``api_version`` (Docker API version, or "auto").
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        user: str | None = None,
        name_prefix: str = "cube-",
        pids_limit: int = 512,
        stop_grace_seconds: int = 3,
        api_timeout: float = 60,
        api_version: str = "1.41",
        **options: object,
    ) -> None:
        super().__init__(base_url=base_url, **options)
        self.base_url = base_url
        self.user = user
        if user is not None:
            _parse_user(user)
        self.name_prefix = name_prefix
        self.pids_limit = pids_limit
        self.stop_grace_seconds = stop_grace_seconds
        self.api_timeout = api_timeout
        # Pinned rather than "auto": asking podman for its version costs about 0.6 s per client, and
        # 1.41 is spoken by podman 4 and by dockerd 20.10 and later.
        self.api_version = api_version
        self._client: docker.DockerClient | None = None

    @property
    def api(self) -> docker.APIClient:
        """The low-level client, connected on first use (building a runner never touches the daemon)."""
        if self._client is None:
            try:
                if self.base_url:
                    self._client = docker.DockerClient(
                        base_url=self.base_url, version=self.api_version, timeout=int(self.api_timeout)
                    )
                else:
                    self._client = docker.from_env(version=self.api_version, timeout=int(self.api_timeout))
            except _UNREACHABLE as exc:
                raise RunnerError(f"container engine unreachable at {self.base_url or 'DOCKER_HOST'}: {exc}") from exc
        return self._client.api

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _name(self, job_id: str) -> str:
        return self.name_prefix + check_job_id(job_id)

    def _inspect(self, job_id: str) -> dict[str, Any] | None:
        """The job's container (under its own or its cancelled name), or None if it has none."""
        name = self._name(job_id)
        for candidate in (name, name + _CANCELLED):
            try:
                info: dict[str, Any] = self.api.inspect_container(candidate)
                return info
            except docker.errors.NotFound:
                continue
            except _UNREACHABLE as exc:
                raise RunnerError(f"cannot inspect the container of job {job_id}: {exc}") from exc
        return None

    def _container_user(self, output_dir: str) -> tuple[int, int]:
        if self.user is not None:
            return _parse_user(self.user)
        st = os.stat(output_dir)
        return (st.st_uid, st.st_gid) if st.st_uid != 0 else (1000, 1000)

    # -- the contract --------------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> None:
        name = self._name(spec.job_id)
        check_container_spec(spec)
        if self._inspect(spec.job_id) is not None:  # also catches a cancelled one under its new name
            raise RunnerError(f"job {spec.job_id} already exists")
        try:
            uid, gid = self._container_user(spec.output_dir)
            make_output_writable(spec.output_dir, uid, gid)
        except OSError as exc:
            raise RunnerError(f"output directory of job {spec.job_id} unusable: {exc}") from exc
        labels = {
            **spec.labels,
            JOB_LABEL: spec.job_id,
            MEMORY_LABEL: str(spec.memory_limit_mb),
            TIMEOUT_LABEL: str(spec.timeout_seconds or ""),
        }
        device_requests = None
        if spec.gpu_limit > 0:
            device_requests = [DeviceRequest(count=spec.gpu_limit, capabilities=[["gpu"]])]
        api = self.api
        host_config = api.create_host_config(
            binds={
                os.path.abspath(spec.input_dir): {"bind": INCOMING, "mode": "ro"},
                os.path.abspath(spec.output_dir): {"bind": OUTGOING, "mode": "rw"},
            },
            network_mode="none",
            mem_limit=f"{spec.memory_limit_mb}m" if spec.memory_limit_mb else None,
            # swap equal to memory: over the limit the job is killed instead of swapping
            memswap_limit=f"{spec.memory_limit_mb}m" if spec.memory_limit_mb else None,
            nano_cpus=spec.cpu_limit_millicores * 1_000_000 if spec.cpu_limit_millicores else None,
            pids_limit=self.pids_limit,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            device_requests=device_requests,
        )
        try:
            api.create_container(
                spec.image,
                name=name,
                entrypoint=list(spec.entrypoint),
                command=[*spec.args, INCOMING, OUTGOING],
                environment=dict(spec.env),
                user=f"{uid}:{gid}",
                labels=labels,
                host_config=host_config,
                detach=True,
                network_disabled=True,
            )
        except docker.errors.ImageNotFound as exc:
            raise RunnerError(f"image {spec.image} not found on the container engine") from exc
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # lost a race with another submit of the same job
                raise RunnerError(f"job {spec.job_id} already exists") from exc
            raise RunnerError(f"cannot create the container of job {spec.job_id}: {exc.explanation or exc}") from exc
        except _UNREACHABLE as exc:
            raise RunnerError(f"container engine unreachable: {exc}") from exc
        try:
            api.start(name)
        except _UNREACHABLE as exc:
            # e.g. the entrypoint does not exist. podman records no reason on the container, so say it
            # here, and remove the container so that a corrected retry is not refused as a duplicate.
            reason = exc.explanation if isinstance(exc, docker.errors.APIError) else str(exc)
            try:
                api.remove_container(name, force=True)
            except _UNREACHABLE:
                pass
            raise RunnerError(f"cannot start the container of job {spec.job_id}: {reason}") from exc

    def status(self, job_id: str) -> JobStatus:
        info = self._inspect(job_id)
        if info is None:
            return JobStatus(JobState.UNKNOWN, message="no such job")
        state = info.get("State") or {}
        labels = (info.get("Config") or {}).get("Labels") or {}
        timeout = int(labels.get(TIMEOUT_LABEL) or 0) or None
        status = (state.get("Status") or "").lower()
        if status in ("running", "paused", "restarting"):
            started = _parse_time(state.get("StartedAt"))
            if timeout and started is not None and time.time() - started > timeout:
                self._kill(info["Name"].lstrip("/"))
                return self.status(job_id)
            return JobStatus(JobState.RUNNING)
        cancelled = info["Name"].lstrip("/").endswith(_CANCELLED)
        if status in ("created", "configured", "initialized"):
            error = state.get("Error") or ""
            if cancelled:
                return JobStatus(JobState.CANCELLED, message="cancelled")
            if error:
                return JobStatus(JobState.FAILED, state.get("ExitCode") or None, f"cannot start: {error}")
            created = _parse_time(info.get("Created"))
            if created is not None and time.time() - created > _START_GRACE_SECONDS:
                # submit() starts what it creates; a container still "created" lost its submitter
                return JobStatus(JobState.FAILED, None, "container was created but never started")
            return JobStatus(JobState.PENDING)
        code = state.get("ExitCode")
        if cancelled:
            return JobStatus(JobState.CANCELLED, code, "cancelled")
        if code == 0:
            return JobStatus(JobState.SUCCEEDED, 0)
        started, finished = _parse_time(state.get("StartedAt")), _parse_time(state.get("FinishedAt"))
        if timeout and started is not None and finished is not None and finished - started >= timeout:
            return JobStatus(JobState.FAILED, code, f"timed out after {timeout} s")
        memory = labels.get(MEMORY_LABEL, "?")
        if state.get("OOMKilled"):
            return JobStatus(JobState.FAILED, code, f"out of memory (limit {memory} MB)")
        if code == 137:  # SIGKILL that nobody here sent: on these engines, nearly always the OOM killer
            return JobStatus(JobState.FAILED, code, f"killed (SIGKILL), probably out of memory (limit {memory} MB)")
        error = state.get("Error") or ""
        if code == 127 or error:
            return JobStatus(JobState.FAILED, code, error or "command not found (exit code 127)")
        return JobStatus(JobState.FAILED, code, f"exited with code {code}")

    def _kill(self, name: str) -> None:
        try:
            self.api.kill(name)
            self.api.wait(name, timeout=30)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: not running any more, which is what we wanted
                raise RunnerError(f"cannot kill container {name}: {exc.explanation or exc}") from exc
        except _UNREACHABLE as exc:
            raise RunnerError(f"cannot kill container {name}: {exc}") from exc

    def logs(self, job_id: str) -> str:
        info = self._inspect(job_id)
        if info is None:
            return ""
        try:
            data = self.api.logs(info["Id"], stdout=True, stderr=True, stream=False, tail="all")
        except docker.errors.NotFound:
            return ""
        except _UNREACHABLE as exc:
            raise RunnerError(f"cannot read the logs of job {job_id}: {exc}") from exc
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)

    def cancel(self, job_id: str) -> None:
        info = self._inspect(job_id)
        if info is None:
            return
        name = info["Name"].lstrip("/")
        status = ((info.get("State") or {}).get("Status") or "").lower()
        if name.endswith(_CANCELLED) or status not in ("running", "paused", "restarting", "created"):
            return  # finished (or already cancelled): nothing to stop
        try:
            self.api.rename(info["Id"], name + _CANCELLED)
            if status != "created":
                self.api.stop(info["Id"], timeout=self.stop_grace_seconds)
                self.api.wait(info["Id"], timeout=self.stop_grace_seconds + 30)
        except docker.errors.NotFound:
            pass
        except (docker.errors.APIError, *_UNREACHABLE) as exc:
            raise RunnerError(f"cannot stop the container of job {job_id}: {exc}") from exc

    def remove(self, job_id: str) -> None:
        name = self._name(job_id)
        for candidate in (name, name + _CANCELLED):
            try:
                self.api.remove_container(candidate, force=True)
            except docker.errors.NotFound:
                continue
            except (docker.errors.APIError, *_UNREACHABLE) as exc:
                raise RunnerError(f"cannot remove the container of job {job_id}: {exc}") from exc
