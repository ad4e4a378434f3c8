"""One failing plugin is reported and skipped: hook isolation done inside pluggy.

pluggy aborts a whole hook call when one implementation raises.  Pruvon keeps
a host administration tool running when a third-party plugin is broken, so
each plugin is registered through a stand-in (:func:`isolate`) whose hook
functions are the plugin's own, wrapped:

* a plain implementation that raises is reported and answers None, which
  pluggy drops from the results (and which a ``firstresult`` hook skips);
* a ``wrapper=True`` or old-style ``hookwrapper=True`` implementation that
  raises before its ``yield`` is reported and steps aside (the call goes on
  without it); one that raises after its ``yield`` while the inner call
  succeeded is reported and the inner result stands.  An exception coming
  *from* the inner call still reaches the wrapper, as pluggy documents.

The wrappers carry ``__wrapped__``, so pluggy reads the original signature
(which arguments an implementation takes) and the original hookimpl options
(``tryfirst``, ``wrapper``, ``specname`` …); calling is entirely pluggy's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

import pluggy

Report = Callable[[str, str, BaseException], None]
IMPL_ATTR = "pruvon_impl"  # where HookimplMarker("pruvon") keeps the options


class IsolatedPlugin:
    """Stands in for a registered plugin; hook attributes are isolated wrappers.

    Attribute reads other than hooks go to the real plugin, so code that asks
    pluggy for a plugin by name still reaches the module's names.
    """

    def __init__(self, plugin: object) -> None:
        self.__dict__["_plugin"] = plugin

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_plugin"], name)

    def __repr__(self) -> str:
        return f"<isolated {self.__dict__['_plugin']!r}>"


def isolate(pm: pluggy.PluginManager, plugin: object, name: str, report: Report) -> IsolatedPlugin:
    """A stand-in for ``plugin`` whose hook implementations cannot break a hook call."""
    proxy = IsolatedPlugin(plugin)
    for attr in dir(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        if opts is None:
            continue
        function = getattr(plugin, attr)
        hook_name = opts.get("specname") or attr

        def on_error(exc: BaseException, hook_name: str = hook_name) -> None:
            report(name, hook_name, exc)

        if opts.get("wrapper"):
            wrapped = _isolated_wrapper(function, on_error)
        elif opts.get("hookwrapper"):
            wrapped = _isolated_old_style_wrapper(function, on_error)
        else:
            wrapped = _isolated_call(function, on_error)
        setattr(wrapped, IMPL_ATTR, opts)
        proxy.__dict__[attr] = wrapped
    return proxy


def original(plugin: object) -> object:
    """The real plugin behind a stand-in (the plugin itself otherwise)."""
    if isinstance(plugin, IsolatedPlugin):
        return plugin.__dict__["_plugin"]
    return plugin


def _isolated_call(function: Callable[..., Any], on_error: Callable[[BaseException], None]) -> Any:
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            on_error(exc)
            return None

    return call


def _isolated_wrapper(function: Callable[..., Any], on_error: Callable[[BaseException], None]) -> Any:
    """A ``wrapper=True`` implementation whose own failures are reported, not raised."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
        teardown = _setup(function, args, kwargs, on_error)
        if teardown is None:
            return (yield)
        try:
            result = yield
        except GeneratorExit:
            teardown.close()
            raise
        except BaseException as inner:
            return _throw(teardown, inner)
        try:
            teardown.send(result)
        except StopIteration as stop:
            return stop.value
        except Exception as exc:
            on_error(exc)
            return result
        teardown.close()
        on_error(RuntimeError("hook wrapper yielded twice"))
        return result

    return wrapper


def _isolated_old_style_wrapper(
    function: Callable[..., Any], on_error: Callable[[BaseException], None]
) -> Any:
    """An old-style ``hookwrapper=True`` implementation, isolated the same way."""

    @functools.wraps(function)
    def hookwrapper(*args: Any, **kwargs: Any) -> Generator[None, Any, None]:
        teardown = _setup(function, args, kwargs, on_error)
        if teardown is None:
            yield
            return
        outcome = yield
        try:
            teardown.send(outcome)
        except StopIteration:
            return
        except Exception as exc:
            on_error(exc)
            return
        teardown.close()
        on_error(RuntimeError("hook wrapper yielded twice"))

    return hookwrapper


def _setup(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    on_error: Callable[[BaseException], None],
) -> Generator[None, Any, Any] | None:
    """Run a wrapper up to its ``yield``; None when it failed there (reported)."""
    try:
        teardown = function(*args, **kwargs)
        next(teardown)
    except StopIteration:
        on_error(RuntimeError("hook wrapper did not yield"))
        return None
    except Exception as exc:
        on_error(exc)
        return None
    return teardown


def _throw(teardown: Generator[None, Any, Any], inner: BaseException) -> Any:
    """Hand the inner call's exception to the wrapper, as pluggy does."""
    try:
        teardown.throw(inner)
    except StopIteration as stop:
        return stop.value
    teardown.close()
    raise inner


def unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Hooks ``plugin`` implements that no hookspec declares (typos, stale names)."""
    unknown = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.has_spec():
            continue
        if any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls()):
            unknown.append(caller.name)
    return sorted(unknown)
