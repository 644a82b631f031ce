"""Running a plugin instance's job and registering its outputs.

One task follows a job from start to end (run_job): it prepares the input directory, submits to the
compute resource's runner, moves the instance to 'started', then watches the runner (and the database,
for cancellation) with a heartbeat, and registers outputs the moment the job ends. Status GETs never do
any of this work. If the watching worker dies, the heartbeat goes stale and reconcile() (run by beat)
hands the job to another worker: it either finds the job finished and registers it, re-attaches a
watcher, or marks it finishedWithError with the runner's reason.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cube.runners import JobSpec, JobState, JobStatus, Runner, RunnerError, build_runner
from cube.storage import get_storage
from plugins.models import ComputeResource, PluginType
from uploads.models import ChrisFile
from uploads.paths import LINK_SUFFIX
from uploads.services import files_register

from ..models import PluginInstance, PluginInstanceParameter, Status
from .instances import schedule_waiting_children, transition
from .params import render_args

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
STALE_AFTER = timedelta(seconds=20)
MAX_LOG_CHARS = 5_000_000


def job_id(instance: PluginInstance) -> str:
    from cube.core.services import chris_instance

    return f"{chris_instance().job_id_prefix}{instance.id}"


def runner_for(cr: ComputeResource | None) -> Runner:
    name = cr.runner if cr else settings.CUBE_DEFAULT_RUNNER
    conf = settings.CUBE_RUNNERS[name]
    return build_runner(conf["BACKEND"], {**conf.get("OPTIONS", {}), **((cr.runner_options if cr else {}) or {})})


def job_dirs(instance: PluginInstance) -> tuple[str, str]:
    base = os.path.join(settings.CUBE_JOBS_DIR, "work", str(instance.id))
    return os.path.join(base, "incoming"), os.path.join(base, "outgoing")


def _entrypoint(instance: PluginInstance, runner: Runner) -> list[str]:
    """``execshell selfpath/selfexec``, as every ChRIS engine starts a plugin; our own plugins under the
    local runner run straight from the source tree instead of an installed copy, and a SLURM site's
    nodes run them from the directory it installed them in (RunnerError if one is missing there)."""
    plugin = instance.plugin
    from cube.runners.local import LocalRunner
    from cube.runners.slurm import SlurmRunner

    if isinstance(runner, SlurmRunner):
        return runner.plugin_entrypoint(plugin.execshell, plugin.selfpath, plugin.selfexec)

    if isinstance(runner, LocalRunner):
        import plugins.builtin as builtin_pkg

        builtin = builtin_pkg.REGISTRY.get(plugin.meta.name)
        if builtin is not None and builtin.selfexec == plugin.selfexec:
            script = os.path.join(os.path.dirname(builtin_pkg.__file__), builtin.module.rsplit(".", 1)[-1] + ".py")
            return [sys.executable, script]
    return [plugin.execshell, os.path.join(plugin.selfpath, plugin.selfexec)]


def _materialise_inputs(instance: PluginInstance, incoming: str) -> None:
    """Put the job's inputs in incoming/: the previous output (ds), each parent under <id>/ (ts), and
    every path parameter under <path with '/' → '_'>/ (the layout CUBE gives unextpath inputs)."""
    storage = get_storage()
    os.makedirs(incoming, exist_ok=True)
    ptype = instance.plugin.meta.type
    if ptype == PluginType.TS:
        row = instance.parameter_values.filter(plugin_param__name="plugininstances").first()
        ids = [int(x) for x in str(row.value).split(",") if x.strip().isdigit()] if row and row.value else []
        ids = ids or ([instance.previous_id] if instance.previous_id else [])
        for parent in PluginInstance.objects.filter(id__in=ids, feed_id=instance.feed_id).select_related(
                "output_folder"):
            if parent.output_folder:
                storage.export_prefix(parent.output_folder.path, os.path.join(incoming, str(parent.id)))
    elif ptype == PluginType.DS and instance.previous and instance.previous.output_folder:
        storage.export_prefix(instance.previous.output_folder.path, incoming)
    for row in instance.parameter_values.filter(plugin_param__type__in=("path", "unextpath")).select_related(
            "plugin_param"):
        for path in str(row.value).split(","):
            target = os.path.join(incoming, path.replace("/", "_"))
            if ChrisFile.objects.filter(fname=path).exists():
                os.makedirs(target, exist_ok=True)
                _export_file(path, target)
            else:
                storage.export_prefix(path, target)


def _export_file(key: str, target_dir: str) -> None:
    storage = get_storage()
    dest = os.path.join(target_dir, key.rsplit("/", 1)[-1])
    local = storage.local_path(key)
    if local:
        try:
            os.link(local, dest)
            return
        except OSError:
            pass
    with open(dest, "wb") as fh:
        for chunk in storage.open(key):
            fh.write(chunk)


def build_spec(instance: PluginInstance, runner: Runner) -> JobSpec:
    incoming, outgoing = job_dirs(instance)
    entrypoint = _entrypoint(instance, runner)
    values = [(row.plugin_param, row.value) for row in
              PluginInstanceParameter.objects.filter(plugin_inst=instance).select_related("plugin_param")]
    jid = job_id(instance)
    prefix = jid[: -len(str(instance.id))]
    env = {
        "CHRIS_JID": jid,
        "CHRIS_PLG_INST_ID": str(instance.id),
        "CHRIS_USER_USERNAME": instance.owner.username,
        "CHRIS_USER_EMAIL": instance.owner.email,
        "CHRIS_PREV_PLG_INST_ID": str(instance.previous_id or ""),
        "CHRIS_PREV_JID": f"{prefix}{instance.previous_id}" if instance.previous_id else "",
    }
    if instance.workflow_id:
        # As CUBE tells a workflow's runs where they belong: the workflow, its pipeline, its runs.
        runs = PluginInstance.objects.filter(workflow_id=instance.workflow_id).order_by("id")
        env["CHRIS_WORKFLOW_ID"] = str(instance.workflow_id)
        env["CHRIS_PIPELINE_ID"] = str(instance.workflow.pipeline_id)  # type: ignore[union-attr]
        env["CHRIS_WORKFLOW_PLG_INSTANCES"] = ",".join(str(i) for i in runs.values_list("id", flat=True))
    from ..jobtokens import job_token

    # Never the user's permanent token: one that works only for this job and only while it runs.
    env["CHRIS_USER_TOKEN"] = job_token(instance)
    cr = instance.compute_resource
    timeout = cr.max_job_exec_seconds if cr and cr.max_job_exec_seconds > 0 else None
    return JobSpec(job_id=jid, entrypoint=entrypoint, args=render_args(values), input_dir=incoming,
                   output_dir=outgoing, image=instance.plugin.dock_image, env=env,
                   cpu_limit_millicores=instance.cpu_limit, memory_limit_mb=instance.memory_limit,
                   gpu_limit=instance.gpu_limit, number_of_workers=instance.number_of_workers,
                   timeout_seconds=timeout, labels={"org.chrisproject.instance": str(instance.id)})


def _load(instance_id: int) -> PluginInstance | None:
    return PluginInstance.objects.select_related(
        "plugin__meta", "feed", "owner", "compute_resource", "output_folder", "previous__output_folder"
    ).filter(id=instance_id).first()


def _beat(instance_id: int) -> None:
    PluginInstance.objects.filter(id=instance_id).update(heartbeat=timezone.now())


def run_job(instance_id: int) -> None:
    """The task body: start the job if it is scheduled, then follow it to the end."""
    instance = _load(instance_id)
    if instance is None:
        return
    runner = runner_for(instance.compute_resource)
    if instance.status == Status.SCHEDULED:
        incoming, outgoing = job_dirs(instance)
        shutil.rmtree(os.path.dirname(incoming), ignore_errors=True)
        try:
            _materialise_inputs(instance, incoming)
            os.makedirs(outgoing, exist_ok=True)
            spec = build_spec(instance, runner)
            # A task redelivered after its worker died may find the job already submitted: follow it.
            if runner.status(spec.job_id).state == JobState.UNKNOWN:
                runner.submit(spec)
        except (RunnerError, OSError) as exc:
            log.warning("instance %s could not start: %s", instance_id, exc)
            _cleanup(instance)  # the inputs copied for a job that never ran would stay in the jobs dir for good
            if transition(instance_id, Status.SCHEDULED, Status.FAILED, error_code="CODE01",
                          status_message=f"The job could not be started: {exc}", end_date=timezone.now()):
                _after_end(instance_id)
            return
        if not transition(instance_id, Status.SCHEDULED, Status.STARTED, start_date=timezone.now(),
                          heartbeat=timezone.now()):
            runner.cancel(spec.job_id)  # cancelled while we were submitting
            runner.remove(spec.job_id)
            _cleanup(instance)
            return
    elif instance.status != Status.STARTED:
        return
    watch(instance_id, runner)


def watch(instance_id: int, runner: Runner) -> None:
    instance = _load(instance_id)
    if instance is None:
        return
    jid = job_id(instance)
    while True:
        status = runner.wait(jid, timeout=HEARTBEAT_SECONDS)
        current = PluginInstance.objects.filter(id=instance_id).values_list("status", flat=True).first()
        if current != Status.STARTED:
            # Cancelled (or deleted) while running: stop the job, keep its logs, free its resources.
            runner.cancel(jid)
            _store_logs(instance_id, runner, jid)
            runner.remove(jid)
            _cleanup(instance)
            return
        if status.state.finished or status.state == JobState.UNKNOWN:
            complete(instance_id, runner, status)
            return
        _beat(instance_id)


def _store_logs(instance_id: int, runner: Runner, jid: str) -> str:
    try:
        logs = runner.logs(jid)
    except RunnerError as exc:
        logs = f"(logs unavailable: {exc})"
    if len(logs) > MAX_LOG_CHARS:
        logs = "(earlier output truncated)\n" + logs[-MAX_LOG_CHARS:]
    PluginInstance.objects.filter(id=instance_id).update(job_logs=logs)
    return logs


def complete(instance_id: int, runner: Runner, status: JobStatus) -> None:
    """The job ended: register its outputs exactly once, then record the final status."""
    if not transition(instance_id, Status.STARTED, Status.REGISTERING, heartbeat=timezone.now(),
                      end_date=timezone.now()):
        return  # someone else is registering it, or it was cancelled
    instance = _load(instance_id)
    assert instance is not None
    jid = job_id(instance)
    _store_logs(instance_id, runner, jid)
    try:
        size = register_outputs(instance)
    except Exception as exc:  # registration failed: say so instead of hanging at 99%
        log.exception("registering outputs of %s failed", instance_id)
        transition(instance_id, Status.REGISTERING, Status.FAILED, error_code="CODE07",
                   status_message=f"Registering the outputs failed: {exc}")
    else:
        ok = status.state == JobState.SUCCEEDED
        message = "" if ok else (status.message or f"The plugin exited with code {status.exit_code}.")
        if status.state == JobState.UNKNOWN:
            message = "The job was lost by its compute resource."
        transition(instance_id, Status.REGISTERING, Status.SUCCEEDED if ok else Status.FAILED, size=size,
                   status_message=message, error_code="" if ok else "CODE02",
                   summary={"exit_code": status.exit_code, "runner_state": str(status.state)})
    runner.remove(jid)
    _cleanup(instance)
    _after_end(instance_id)


def _after_end(instance_id: int) -> None:
    instance = PluginInstance.objects.select_related("plugin__meta").get(id=instance_id)
    with transaction.atomic():
        schedule_waiting_children(instance)


def _cleanup(instance: PluginInstance) -> None:
    incoming, _ = job_dirs(instance)
    shutil.rmtree(os.path.dirname(incoming), ignore_errors=True)


def _clean_name(name: str) -> str:
    return name.replace(",", "")


def register_outputs(instance: PluginInstance) -> int:
    """Move every output file into storage under the output folder and register them in bulk.

    Names lose their commas (commas separate path lists), plugin-made .chrislink files are dropped (a
    plugin must not be able to point at data its user may not read), and nothing escapes the folder.
    Files already registered (a second registration after a crash) are skipped. Returns the total size.
    """
    _, outgoing = job_dirs(instance)
    storage = get_storage()
    base = instance.output_folder.path  # type: ignore[union-attr]
    existing = set(ChrisFile.objects.filter(fname__startswith=base + "/").values_list("fname", flat=True))
    pending: list[tuple[str, str]] = []
    for root, _dirs, files in os.walk(outgoing, followlinks=False):
        rel_root = os.path.relpath(root, outgoing)
        parts = [] if rel_root == "." else [_clean_name(p) for p in rel_root.split(os.sep)]
        if any(p in ("", ".", "..") for p in parts):
            continue
        for name in files:
            local = os.path.join(root, name)
            clean = _clean_name(name)
            if not clean or clean.endswith(LINK_SUFFIX) or os.path.islink(local) or not os.path.isfile(local):
                continue
            key = "/".join([base, *parts, clean])
            if key not in existing:
                pending.append((local, key))
                existing.add(key)
    stored = storage.import_files(pending)
    files_register(owner=instance.feed.owner, objects=[(s.key, s.size, s.md5) for s in stored])
    return sum(s.size for s in stored)


def reconcile() -> int:
    """Beat task body: pick up jobs whose watcher died, and scheduled jobs whose task was lost."""
    stale = timezone.now() - STALE_AFTER
    handled = 0
    for instance_id in PluginInstance.objects.filter(status=Status.STARTED, heartbeat__lt=stale).values_list(
            "id", flat=True):
        # Claim it by moving its heartbeat: only one reconciler wins the compare-and-set.
        if PluginInstance.objects.filter(id=instance_id, status=Status.STARTED, heartbeat__lt=stale).update(
                heartbeat=timezone.now()):
            from ..tasks import run_job_task

            run_job_task.apply_async(args=[instance_id], queue=settings.CUBE_QUEUE_JOBS)
            handled += 1
    for instance_id in PluginInstance.objects.filter(status=Status.REGISTERING, heartbeat__lt=stale).values_list(
            "id", flat=True):
        if transition(instance_id, Status.REGISTERING, Status.STARTED, heartbeat=timezone.now()):
            # The registering worker died: registration is idempotent, so run completion again.
            from ..tasks import run_job_task

            run_job_task.apply_async(args=[instance_id], queue=settings.CUBE_QUEUE_JOBS)
            handled += 1
    lost = timezone.now() - timedelta(seconds=60)
    for instance_id in PluginInstance.objects.filter(status=Status.SCHEDULED,
                                                     modification_date__lt=lost).values_list("id", flat=True):
        # Touch it while claiming, so a job still waiting in a busy queue is re-sent once a minute at most.
        if PluginInstance.objects.filter(id=instance_id, status=Status.SCHEDULED, modification_date__lt=lost).update(
                modification_date=timezone.now()):
            from ..tasks import run_job_task

            run_job_task.apply_async(args=[instance_id], queue=settings.CUBE_QUEUE_JOBS)
            handled += 1
    return handled

