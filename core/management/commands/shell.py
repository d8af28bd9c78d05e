"""``manage.py shell [-c CODE]``: an asyncio Python shell with Bastion loaded.

Like ``python -m asyncio``: top-level ``await`` works. Preloaded names: ``db``
(the settings' database, bound to the models), ``settings``, ``registry``,
``models`` (``{key: class}``), ``asyncio`` and every model class by its class name.
``-c CODE`` runs CODE (top-level ``await`` allowed) and exits; so does code piped
on standard input. An exception there is one line ``error: Type: message``, exit 1.
"""
import ast
import asyncio
import builtins
import code
import concurrent.futures
import inspect
import sys
import threading
import types

from core.db import connect
from core.i18n import gettext as _
from core.i18n import gettext_lazy as _l
from core.management.base import Command, CommandError


class AsyncConsole(code.InteractiveConsole):
    """An interactive console whose input may ``await``; code runs on ``loop``."""

    def __init__(self, namespace, loop):
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop
        self.running = None
        self.interrupted = False

    def runcode(self, compiled):
        future = concurrent.futures.Future()

        def start():
            self.running = None
            self.interrupted = False
            try:
                result = types.FunctionType(compiled, self.locals)()
            except BaseException as exc:  # reported by the console thread below
                future.set_exception(exc)
                return
            if not inspect.iscoroutine(result):
                future.set_result(result)
                return
            self.running = self.loop.create_task(result)
            self.running.add_done_callback(lambda task: _copy_outcome(task, future))

        self.loop.call_soon_threadsafe(start)
        try:
            return future.result()
        except SystemExit:
            raise
        except BaseException:
            if self.interrupted:
                self.write("\nKeyboardInterrupt\n")
            else:
                self.showtraceback()

    def interrupt(self):
        """Ctrl-C in the main thread: cancel the running ``await``, if any."""
        if self.running is not None and not self.running.done():
            self.interrupted = True
            self.running.cancel()


def _copy_outcome(task, future):
    if task.cancelled():
        future.set_exception(KeyboardInterrupt())
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


class ShellCommand(Command):
    name = "shell"
    help = _l("An asyncio Python shell (top-level await) with db, settings, registry and "
              "models.")

    def add_arguments(self, parser):
        parser.add_argument("-c", "--command", metavar="CODE", default=None,
                            help=_("run CODE (top-level await allowed) and exit"))

    def handle(self, args):
        if args.command is not None:
            return asyncio.run(self.run_code(args.command, "<shell -c>", args.traceback))
        if not sys.stdin.isatty():
            return asyncio.run(self.run_code(sys.stdin.read(), "<stdin>", args.traceback))
        return self.interact()

    def namespace(self, db):
        """The names the shell starts with."""
        models = dict(self.registry.models)
        names = {"__name__": "__main__", "__builtins__": builtins, "asyncio": asyncio,
                 "db": db, "settings": self.settings, "registry": self.registry,
                 "models": models}
        by_class = {}
        for model in models.values():
            by_class.setdefault(model.__name__, []).append(model)
        for class_name, classes in by_class.items():
            if len(classes) == 1 and class_name not in names:
                names[class_name] = classes[0]
        return names

    async def run_code(self, source, filename, show_traceback=False):
        try:
            compiled = compile(source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as exc:
            raise CommandError(_("SyntaxError: %(message)s (%(file)s, line %(line)s)") % {
                "message": exc.msg, "file": filename, "line": exc.lineno}) \
                from None
        async with self.database() as db:
            try:
                result = types.FunctionType(compiled, self.namespace(db))()
                if inspect.iscoroutine(result):
                    await result
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    return exc.code or 0
                raise CommandError(str(exc.code)) from None
            except Exception as exc:
                if show_traceback:
                    raise
                raise CommandError(f"{type(exc).__name__}: {' '.join(str(exc).split())}") \
                    from None
            finally:
                sys.stdout.flush()
        return 0

    def interact(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        db = connect(self.settings.DATABASE_URL, self.settings.MONGO_DRIVER)
        self.registry.bind(db)
        namespace = self.namespace(db)
        console = AsyncConsole(namespace, loop)
        preloaded = ", ".join(sorted(k for k in namespace if not k.startswith("__")))
        banner = (f"Bastion shell ({self.settings.module}, {db.backend} database), "
                  f"Python {sys.version.split()[0]}\n"
                  f"Use 'await' directly. Preloaded: {preloaded}\nCtrl-D exits.")
        try:
            import readline  # noqa: F401  (line editing when available)
        except ImportError:
            pass

        def run_console():
            try:
                console.interact(banner=banner, exitmsg="")
            finally:
                loop.call_soon_threadsafe(loop.stop)

        threading.Thread(target=run_console, name="bastion-shell", daemon=True).start()
        try:
            while True:
                try:
                    loop.run_forever()
                except KeyboardInterrupt:
                    console.interrupt()
                    continue
                break
        finally:
            loop.run_until_complete(db.close())
            loop.close()
        return 0
