"""Where a server's event loop spends its time, slice by slice (bench-only instrument).

    from bench.loop_slices import SliceTimer
    timer = SliceTimer(root).install()     # in the server process, before serving
    ...
    report = timer.report()                # and start afresh

A probe that reaches the server while the loop runs a callback waits until the callback
returns; its tail is set by the longest uninterrupted slices, not by their total. The
timer times every callback the asyncio loop runs (``asyncio.events.Handle._run``: task
steps, I/O readiness callbacks, timers) with ``time.perf_counter`` and names each one:
a task step by the innermost frame of this checkout's code where the task was resumed
and where it stopped again (``LoginHandler.post:341 -> start_session:297``), any other
callback by its qualified name. It also times each work item of the process's thread
pools (``concurrent.futures``' ``_WorkItem.run``), whose Python parts hold the GIL the
loop needs, by thread group and function.

It costs a few microseconds per callback; compare figures taken with it to figures taken
with it, not to a run without it. asyncio's debug mode is not used (it costs far more,
and changes what it measures).
"""
import asyncio
import concurrent.futures.thread
import os
import threading
import time
from collections import defaultdict


def _frames(awaitable, limit=64):
    """The Python frames of a coroutine chain, outermost first."""
    frames = []
    while awaitable is not None and limit:
        limit -= 1
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom",
                                                                    None)
    return frames


class SliceTimer:
    """Times and names the loop's callbacks and the thread pools' work items."""

    def __init__(self, root, threshold_ms=0.0):
        self.root = os.path.realpath(str(root)) + os.sep
        self.threshold = threshold_ms / 1000
        self.reset()

    def reset(self):
        self.slices = defaultdict(list)       # label -> [seconds]
        self.work = defaultdict(list)         # (group, function) -> [(wall s, cpu s)]
        self.cpu = []                         # each slice's CPU seconds (thread_time)
        self.slice_cpu = defaultdict(list)    # label -> [CPU seconds]
        self.requests = defaultdict(list)     # path -> [server-side seconds]
        self.started = time.perf_counter()

    # -- naming ----------------------------------------------------------------------------
    def _where(self, task):
        """Where ``task`` stands: the two innermost frames of this checkout's code in its
        coroutine chain, leaving out the database layer's plumbing (``core/db/``), which
        is named only by its innermost frame (``Handler.post:12>Store.find``)."""
        try:
            coro = task.get_coro()
        except AttributeError:
            return "?"
        frames = _frames(coro)
        ours, plumbing = [], None
        for frame in frames:
            code = frame.f_code
            name = f"{getattr(code, 'co_qualname', code.co_name)}:{frame.f_lineno}"
            if not code.co_filename.startswith(self.root) or "/bench/" in code.co_filename:
                continue
            if "/core/db/" in code.co_filename:
                plumbing = "db"
            else:
                ours.append(name)
        if not ours:
            if not frames:
                return "?"
            code = frames[-1].f_code
            return f"{os.path.basename(code.co_filename)}:" \
                   f"{getattr(code, 'co_qualname', code.co_name)}"
        return ">".join(ours[-2:]) + (">db" if plumbing else "")

    def _label(self, callback):
        task = getattr(callback, "__self__", None)
        if isinstance(task, asyncio.Task):
            return task, self._where(task)
        name = getattr(callback, "__qualname__", None)
        if name is None and hasattr(callback, "func"):          # functools.partial
            name = getattr(callback.func, "__qualname__", repr(callback.func))
        return None, name or type(callback).__name__

    # -- hooks -----------------------------------------------------------------------------
    def install(self):
        timer = self
        run = asyncio.events.Handle._run

        def timed_run(handle):
            task, before = timer._label(handle._callback)
            started, cpu = time.perf_counter(), time.thread_time()
            run(handle)
            took = time.perf_counter() - started
            cpu = time.thread_time() - cpu
            timer.cpu.append(cpu)
            if took >= timer.threshold:
                if task is not None:
                    after = "done" if task.done() else timer._where(task)
                    label = f"{before} -> {after}"
                else:
                    label = before
                timer.slices[label].append(took)
                timer.slice_cpu[label].append(cpu)

        asyncio.events.Handle._run = timed_run

        work_class = concurrent.futures.thread._WorkItem
        work_init, work_run = work_class.__init__, work_class.run

        def stamped_init(item, *args, **kwargs):
            work_init(item, *args, **kwargs)
            item.queued_at = time.perf_counter()

        def timed_work(item):
            started, cpu = time.perf_counter(), time.thread_time()
            work_run(item)
            name = threading.current_thread().name.rsplit("_", 1)[0]
            fn = item.fn
            fn = getattr(fn, "func", fn)
            timer.work[(name, getattr(fn, "__qualname__", repr(fn)))].append(
                (time.perf_counter() - started, time.thread_time() - cpu,
                 started - getattr(item, "queued_at", started)))

        work_class.__init__, work_class.run = stamped_init, timed_work
        return self

    def time_requests(self, application, paths=("/healthz",)):
        """Also keep the server-side time of each request to ``paths`` (Tornado's
        ``request_time``: headers parsed to response written)."""
        log_request = application.log_request

        def timed_log(handler):
            if handler.request.path in paths:
                self.requests[handler.request.path].append(handler.request.request_time())
            return log_request(handler)

        application.log_request = timed_log
        return self

    # -- figures ---------------------------------------------------------------------------
    def report(self, top=25):
        """The figures since the last report (or ``install``), as a dict; starts afresh."""
        elapsed = time.perf_counter() - self.started
        everything = [s for values in self.slices.values() for s in values]
        everything.sort()

        def pct(values, fraction):
            return values[min(len(values) - 1, int(fraction * (len(values) - 1)))] \
                if values else 0.0

        labels = []
        for label, values in self.slices.items():
            values.sort()
            cpus = sorted(self.slice_cpu[label])
            labels.append({"label": label, "n": len(values), "total_ms": sum(values) * 1000,
                           "p50_ms": pct(values, 0.5) * 1000, "p99_ms": pct(values, 0.99) * 1000,
                           "max_ms": values[-1] * 1000,
                           "cpu_ms": sum(cpus) * 1000, "cpu_p50_ms": pct(cpus, 0.5) * 1000,
                           "cpu_p90_ms": pct(cpus, 0.9) * 1000,
                           "over_1ms": sum(v >= 0.001 for v in values)})
        by_total = sorted(labels, key=lambda x: -x["total_ms"])[:top]
        by_long = sorted(labels, key=lambda x: -x["p99_ms"] * x["n"] ** 0)[:top]
        work = []
        for (group, fn), values in self.work.items():
            walls = sorted(v[0] for v in values)
            waits = sorted(v[2] for v in values)
            work.append({"group": group, "function": fn, "n": len(values),
                         "cpu_ms": sum(v[1] for v in values) * 1000,
                         "wall_p50_ms": pct(walls, 0.5) * 1000,
                         "wall_max_ms": walls[-1] * 1000,
                         "queued_p99_ms": pct(waits, 0.99) * 1000})
        work.sort(key=lambda x: -x["cpu_ms"])
        busy = sum(everything)
        cpu = sorted(self.cpu)
        result = {
            "seconds": elapsed, "callbacks": len(everything), "busy_ms": busy * 1000,
            "slice_ms": {"p50": pct(everything, 0.5) * 1000, "p90": pct(everything, 0.9) * 1000,
                         "p99": pct(everything, 0.99) * 1000,
                         "max": (everything[-1] if everything else 0) * 1000},
            # the same slices' CPU time: wall minus CPU is time the loop's thread waited
            # inside a callback (for the GIL, or for a CPU the OS gave another thread)
            "cpu_ms": {"total": sum(cpu) * 1000, "p99": pct(cpu, 0.99) * 1000,
                       "max": (cpu[-1] if cpu else 0) * 1000},
            # time-weighted: how much of the loop's busy time is in slices at least this long
            "busy_in_slices_over": {
                f"{ms}ms": sum(s for s in everything if s >= ms / 1000) / busy if busy else 0
                for ms in (0.25, 0.5, 1, 2)},
            "by_total": by_total, "longest": by_long, "work": work[:top],
            "requests": {path: {"n": len(v), "p50_ms": pct(sorted(v), 0.5) * 1000,
                                "p99_ms": pct(sorted(v), 0.99) * 1000,
                                "max_ms": max(v) * 1000}
                         for path, v in self.requests.items() if v}}
        self.reset()
        return result


def print_report(report, out=print, top=15, per=1):
    """Print ``report`` (``SliceTimer.report``); ``per``: divide totals by this (logins)."""
    out(f"    loop: {report['callbacks']} callbacks, busy {report['busy_ms'] / per:.2f} ms "
        f"per login; slice p50 {report['slice_ms']['p50']:.3f} p90 "
        f"{report['slice_ms']['p90']:.3f} p99 {report['slice_ms']['p99']:.3f} max "
        f"{report['slice_ms']['max']:.2f} ms; busy time in slices >= 0.25/0.5/1/2 ms: "
        + "/".join(f"{v:.0%}" for v in report["busy_in_slices_over"].values()))
    out(f"    loop CPU inside callbacks {report['cpu_ms']['total'] / per:.2f} ms per login "
        f"(the rest of busy: waiting for the GIL or a CPU); slice CPU p99 "
        f"{report['cpu_ms']['p99']:.3f} max {report['cpu_ms']['max']:.2f} ms")
    out(f"    {'slices by total (per login); wall ms, then CPU ms':<84}{'n':>6}{'ms':>7}"
        f"{'p50':>7}{'p99':>7}{'max':>7} |{'cpu':>6}{'p50':>6}{'p90':>6}")
    for row in report["by_total"][:top]:
        out(f"    {row['label'][:84]:<84}{row['n'] / per:>6.1f}{row['total_ms'] / per:>7.3f}"
            f"{row['p50_ms']:>7.3f}{row['p99_ms']:>7.3f}{row['max_ms']:>7.2f} |"
            f"{row.get('cpu_ms', 0) / per:>6.3f}{row.get('cpu_p50_ms', 0):>6.3f}"
            f"{row.get('cpu_p90_ms', 0):>6.3f}")
    out(f"    {'thread pool work (per login)':<70}{'n':>6}{'cpu ms':>8}{'wall p50':>9}"
        f"{'max':>7}{'queued p99':>11}")
    for row in report["work"][:top]:
        out(f"    {(row['group'] + ' ' + row['function'])[:70]:<70}{row['n'] / per:>6.1f}"
            f"{row['cpu_ms'] / per:>8.3f}{row['wall_p50_ms']:>9.3f}{row['wall_max_ms']:>7.2f}"
            f"{row['queued_p99_ms']:>11.3f}")
    for path, row in report.get("requests", {}).items():
        out(f"    {path} server-side: n {row['n']}, p50 {row['p50_ms']:.3f}, p99 "
            f"{row['p99_ms']:.3f}, max {row['max_ms']:.2f} ms")
