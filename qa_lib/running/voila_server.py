"""Voilà as the explorer runs it: the stock app with one fix, so a closed tab stops its kernel.

Voilà 0.5's page registers a ``beforeunload`` beacon that POSTs ``/voila/api/shutdown/<kernel>``
with the ``_xsrf`` cookie's value. Under token login nothing on the page's GET ever asks tornado
for an XSRF token, so there is no ``_xsrf`` cookie, the beacon carries an empty ``_xsrf`` and the
server refuses it (403, "'_xsrf' argument missing from POST"): every closed tab left its kernel
running. :class:`XsrfVoilaHandler` asks for the token once the page request is authenticated, which
sets the cookie (tornado's XSRF double-submit scheme, unchanged), so the beacon passes the same
check every other POST passes. Token login, localhost binding and the XSRF check itself stay as
they were.

Run it as ``python -m qa_lib.running.voila_server <notebook> [voila options]``;
:func:`qa_lib.running.explore_app.voila_command` builds that line.
"""

from __future__ import annotations

import sys

from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

__all__ = ["XsrfVoilaHandler", "ExplorerVoila", "main"]


class XsrfVoilaHandler(TornadoVoilaHandler):
    """The notebook page handler, which also sets the ``_xsrf`` cookie the shutdown beacon sends back."""

    async def prepare(self, *args, **kwargs):
        await super().prepare(*args, **kwargs)  # authenticates: a ?token= request also gets the login cookie
        if self.current_user is not None and not self._finished:
            _ = self.xsrf_token  # reading it sets the cookie (before the page starts streaming)


class ExplorerVoila(Voila):
    """Voilà serving one notebook with :class:`XsrfVoilaHandler` for its page."""

    def init_handlers(self) -> list:
        return [(h[0], XsrfVoilaHandler, *h[2:]) if h[1] is TornadoVoilaHandler else h
                for h in super().init_handlers()]


def main(argv: list[str] | None = None) -> None:
    ExplorerVoila.launch_instance(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
