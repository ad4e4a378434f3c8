"""The docker plugin's blueprint: pages, API and sockets, each route added once."""

from __future__ import annotations

import functools

from flask import Blueprint

from pruvon_docker import api, pages, ws


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("docker", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/docker")
    for module in (pages, api, ws):
        module.register(bp)
    return bp
