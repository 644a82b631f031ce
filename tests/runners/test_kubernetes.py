"""KubernetesRunner specifics, on the fake API server (tests/support/fake_k8s.py) whose pods run as real
containers: the pod's confinement and limits, the NetworkPolicy, token auth, an unreachable server, PVC
mode, and a cancel that a new runner instance still reads."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from cube.runners.base import JobState, RunnerError
from cube.runners.kubernetes import CANCELLED_ANNOTATION, JOB_LABEL, NETWORK_POLICY, KubernetesRunner

from .conftest import K8S_TOKEN
from .harness import Backend, unavailable
from .test_contract import WRITE_OUTPUT, start_sleeper, wait_for
from .test_docker import PROBE


@pytest.fixture
def k8s(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    from .conftest import _cleanup, make_backend

    b = make_backend("kubernetes", request, tmp_path)
    yield b, request.getfixturevalue("fake_k8s")
    _cleanup(b)


def _stored_job(fake: Any, runner: KubernetesRunner, job_id: str, ns: str = "default") -> dict[str, Any]:
    with fake.lock:
        return json.loads(json.dumps(fake.jobs[(ns, runner.job_name(job_id))]))


def _fresh_namespace(fake: Any) -> str:
    ns = f"ns-{uuid.uuid4().hex[:8]}"
    with fake.lock:
        fake.namespaces.add(ns)
    return ns


def test_pod_is_confined_and_limited(k8s: tuple[Backend, Any]) -> None:
    backend, fake = k8s
    runner = backend.runner()
    assert isinstance(runner, KubernetesRunner)
    spec = backend.spec(PROBE, args=["--flag", "$(HOME)"], memory_limit_mb=300, cpu_limit_millicores=500,
                        timeout_seconds=120, labels={"org.chrisproject.feed": "7"})
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=60)
    assert st.state == JobState.SUCCEEDED, (st, runner.logs(spec.job_id))

    job = _stored_job(fake, runner, spec.job_id)
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 120
    assert job["metadata"]["labels"][JOB_LABEL] == runner.job_name(spec.job_id)
    assert job["metadata"]["annotations"]["org.chrisproject.feed"] == "7"
    assert job["metadata"]["annotations"]["chrisproject.org/job-id"] == spec.job_id
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    limits = {"cpu": "500m", "memory": "300Mi"}
    assert c["resources"] == {"requests": limits, "limits": limits}
    assert {m["mountPath"]: m.get("readOnly", False) for m in c["volumeMounts"]} == {
        "/share/incoming": True, "/share/outgoing": False}
    assert [e["name"] for e in c["env"]] == []  # only JobSpec.env, nothing of this process

    facts = json.loads((Path(spec.output_dir) / "facts.json").read_text())
    assert facts["uid"] == 1000 and facts["gid"] == 1000
    assert facts["input_writable"] is False
    assert int(facts["CapEff"], 16) == 0 and facts["NoNewPrivs"] == "1"
    # the kubelet's $(VAR) expansion must not rewrite a plugin's arguments
    assert facts["argv"] == ["--flag", "$(HOME)", "/share/incoming", "/share/outgoing"]


def test_gpus_are_requested_as_limits(k8s: tuple[Backend, Any]) -> None:
    backend, _ = k8s
    runner = backend.runner()
    assert isinstance(runner, KubernetesRunner)
    manifest = runner.manifest(backend.spec("print(1)", gpu_limit=2))
    res = manifest["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert res["limits"]["nvidia.com/gpu"] == "2" and res["requests"] == res["limits"]
    backend.submitted.clear()


@pytest.mark.parametrize("breach", [
    ("pod", "automountServiceAccountToken", True),
    ("pod", "enableServiceLinks", None),
    ("container", "allowPrivilegeEscalation", True),
    ("container", "capabilities", {"drop": ["NET_RAW"]}),
    ("both", "seccompProfile", {"type": "Unconfined"}),
    ("both", "runAsNonRoot", False),
    ("container", "resources", {"limits": {"cpu": "1", "memory": "64Mi"}}),
])
def test_the_fake_refuses_an_unconfined_pod(k8s: tuple[Backend, Any], breach: tuple[str, str, Any]) -> None:
    # What makes the contract suite's passing mean the runner sends the confinement: the fake admits
    # nothing less.
    backend, fake = k8s
    runner = backend.runner()
    assert isinstance(runner, KubernetesRunner)
    spec = backend.spec("print(1)")
    runner.submit(spec)  # creates the NetworkPolicy; this one is admitted
    manifest = runner.manifest(backend.spec("print(1)"))
    pod = manifest["spec"]["template"]["spec"]
    where, key, value = breach
    targets = {"pod": [pod], "container": [pod["containers"][0]],
               "both": [pod["securityContext"], pod["containers"][0]["securityContext"]]}[where]
    for target in targets:
        if key == "resources":
            target[key] = value
        elif where == "container":
            target["securityContext"][key] = value
        elif value is None:
            target.pop(key)
        else:
            target[key] = value
    resp = requests.post(f"{fake.url}/apis/batch/v1/namespaces/default/jobs", json=manifest,
                         headers={"Authorization": f"Bearer {K8S_TOKEN}"}, timeout=10)
    assert resp.status_code == 403, resp.text
    body = resp.json()
    assert body["kind"] == "Status" and body["reason"] == "Forbidden"
    assert key.split(".")[0] in body["message"] or "limits" in body["message"]


def test_network_policy_created_once_and_checked(k8s: tuple[Backend, Any]) -> None:
    backend, fake = k8s
    ns = _fresh_namespace(fake)
    runner = KubernetesRunner(fake.url, token=K8S_TOKEN, namespace=ns, stop_grace_seconds=1)
    first, second = backend.spec("print(1)"), backend.spec("print(2)")
    fake_posts = lambda: [r for r in fake.requests if r == ("POST", f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies")]  # noqa: E731,E501
    runner.submit(first)
    KubernetesRunner(fake.url, token=K8S_TOKEN, namespace=ns, stop_grace_seconds=1).submit(second)
    assert len(fake_posts()) == 1
    policy = fake.policies[(ns, NETWORK_POLICY)]
    assert policy["spec"]["podSelector"] == {"matchExpressions": [{"key": JOB_LABEL, "operator": "Exists"}]}
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in policy["spec"] and "egress" not in policy["spec"]
    for job in (first, second):
        assert runner.wait(job.job_id, timeout=60).state == JobState.SUCCEEDED
        runner.remove(job.job_id)
    backend.submitted.clear()

    # A policy of that name that lets traffic in is not taken for the deny-all one.
    other = _fresh_namespace(fake)
    with fake.lock:
        fake.policies[(other, NETWORK_POLICY)] = {"metadata": {"name": NETWORK_POLICY}, "spec": {
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}]}}
    with pytest.raises(RunnerError, match="does not deny all"):
        KubernetesRunner(fake.url, token=K8S_TOKEN, namespace=other).submit(backend.spec("print(1)"))
    backend.submitted.clear()


def test_token_auth(k8s: tuple[Backend, Any], tmp_path: Path) -> None:
    backend, fake = k8s
    with pytest.raises(RunnerError, match="Unauthorized"):
        KubernetesRunner(fake.url, token="wrong-token").submit(backend.spec("print(1)"))
    with pytest.raises(RunnerError, match="Unauthorized"):
        KubernetesRunner(fake.url).status("some-job")  # no token at all
    backend.submitted.clear()
    token_file = tmp_path / "token"
    token_file.write_text(K8S_TOKEN + "\n")
    runner = KubernetesRunner(fake.url, token_file=str(token_file), stop_grace_seconds=1)
    spec = backend.spec("print('with the service account token')")
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=60).state == JobState.SUCCEEDED
    token_file.write_text("rotated-and-revoked")  # the file is read again: a rotated token is used
    with pytest.raises(RunnerError, match="Unauthorized"):
        runner.status(spec.job_id)


def test_api_errors_and_an_unreachable_server(k8s: tuple[Backend, Any]) -> None:
    backend, fake = k8s
    with pytest.raises(RunnerError, match='namespaces "no-such-ns" not found'):
        KubernetesRunner(fake.url, token=K8S_TOKEN, namespace="no-such-ns").submit(backend.spec("print(1)"))
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = KubernetesRunner(f"http://127.0.0.1:{port}", token=K8S_TOKEN, api_timeout=5)
    for call in (lambda: down.submit(backend.spec("print(1)")), lambda: down.status("a-job"),
                 lambda: down.cancel("a-job"), lambda: down.remove("a-job"), lambda: down.logs("a-job")):
        with pytest.raises(RunnerError, match="unreachable"):
            call()
    backend.submitted.clear()


def test_pvc_mode_mounts_job_dirs_by_subpath(k8s: tuple[Backend, Any]) -> None:
    backend, fake = k8s
    claim = f"jobs-{uuid.uuid4().hex[:6]}"
    with fake.lock:
        fake.pvcs[claim] = str(backend.root)  # the claim's volume is what this host sees at backend.root
    runner = KubernetesRunner(fake.url, token=K8S_TOKEN, volume_mode="pvc", pvc_name=claim,
                              pvc_host_dir=str(backend.root), stop_grace_seconds=1)
    spec = backend.spec(WRITE_OUTPUT, args=["via-pvc"])
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=60).state == JobState.SUCCEEDED, runner.logs(spec.job_id)
    assert (Path(spec.output_dir) / "result.txt").read_text() == "via-pvc:input data\n"
    pod = _stored_job(fake, runner, spec.job_id)["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "jobs", "persistentVolumeClaim": {"claimName": claim}}]
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/share/incoming"]["subPath"] == str(Path(spec.input_dir).relative_to(backend.root))
    assert mounts["/share/incoming"]["readOnly"] is True
    assert mounts["/share/outgoing"]["subPath"] == str(Path(spec.output_dir).relative_to(backend.root))
    outside = KubernetesRunner(fake.url, token=K8S_TOKEN, volume_mode="pvc", pvc_name=claim,
                               pvc_host_dir=str(backend.root / "elsewhere"))
    with pytest.raises(RunnerError, match="not under"):
        outside.submit(backend.spec("print(1)"))
    with pytest.raises(RunnerError, match="pvc_name"):
        KubernetesRunner(fake.url, volume_mode="pvc")


def test_cancel_is_recorded_on_the_job(k8s: tuple[Backend, Any]) -> None:
    backend, fake = k8s
    runner, spec, out = start_sleeper(backend)
    assert isinstance(runner, KubernetesRunner)
    assert not backend.job_gone(spec.job_id, out)  # the check below can see a running container
    runner.cancel(spec.job_id)
    wait_for(lambda: backend.job_gone(spec.job_id, out), timeout=15, what="the pod's container to go")
    fresh = KubernetesRunner(fake.url, token=K8S_TOKEN)  # another worker, nothing in memory
    assert fresh.status(spec.job_id) == fresh.status(spec.job_id)
    assert fresh.status(spec.job_id).state == JobState.CANCELLED
    job = _stored_job(fake, runner, spec.job_id)
    assert job["metadata"]["annotations"][CANCELLED_ANNOTATION] == "true"
    assert job["spec"]["suspend"] is True

    def pods_left() -> list[Any]:
        with fake.lock:
            return [p for p in fake.pods.values() if p["metadata"]["labels"][JOB_LABEL] == job["metadata"]["name"]]

    wait_for(lambda: not pods_left(), timeout=15, what="the Job's pods to be deleted")


def test_failures_say_why(k8s: tuple[Backend, Any]) -> None:
    backend, _ = k8s
    runner = backend.runner()
    missing = dataclasses.replace(backend.spec("print(1)"), image="localhost/cube/no-such-image:0")
    runner.submit(missing)
    st = runner.wait(missing.job_id, timeout=60)
    assert st.state == JobState.FAILED and "cannot pull image" in st.message, st
    runner.cancel(missing.job_id)  # the Job itself is still active (a kubelet retries pulls): stop it
    assert runner.status(missing.job_id).state == JobState.CANCELLED
    hog = backend.spec("data = b'x' * (400 << 20); print('survived')", memory_limit_mb=64)
    runner.submit(hog)
    st = runner.wait(hog.job_id, timeout=60)
    assert st.state == JobState.FAILED and st.exit_code == 137, (st, runner.logs(hog.job_id))
    assert "out of memory (limit 64 MiB)" in st.message


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_against_the_ca_bundle(container_engine: tuple[str, str], tmp_path: Path) -> None:
    from tests.support.fake_k8s import FakeKubernetes

    if shutil.which("openssl") is None:
        unavailable("openssl is needed to make the fake API server's certificate")
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    fake = FakeKubernetes(container_engine[0], token=K8S_TOKEN).start(tls=(str(cert), str(key)))
    try:
        assert fake.url.startswith("https://")
        trusted = KubernetesRunner(fake.url, token=K8S_TOKEN, ca_bundle=str(cert))
        assert trusted.status("no-such-job").state == JobState.UNKNOWN
        with pytest.raises(RunnerError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            KubernetesRunner(fake.url, token=K8S_TOKEN).status("no-such-job")  # system CAs do not know it
        insecure = KubernetesRunner(fake.url, token=K8S_TOKEN, insecure=True)
        assert insecure.status("no-such-job").state == JobState.UNKNOWN
    finally:
        fake.stop()
