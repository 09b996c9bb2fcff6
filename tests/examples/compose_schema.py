"""A hand-written subset of the Compose specification's JSON schema.

The official schema (compose-spec/compose-spec, ``schema/compose-spec.json``) is not available offline
here, so this covers what docker-compose.yml uses, with the specification's types and names, and
refuses any key it does not know: a typo or a key from outside the specification fails validation
instead of being ignored.
"""

from __future__ import annotations

from typing import Any

_STRING_OR_LIST: dict[str, Any] = {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
}
_ENVIRONMENT: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "patternProperties": {
                r"^[A-Za-z_][A-Za-z0-9_]*$": {"type": ["string", "number", "boolean", "null"]}
            },
            "additionalProperties": False,
        },
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    ]
}
_HEALTHCHECK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "disable": {"type": "boolean"},
        "test": _STRING_OR_LIST,
        "interval": {"type": "string", "pattern": r"^\d+(ms|s|m|h)$"},
        "timeout": {"type": "string", "pattern": r"^\d+(ms|s|m|h)$"},
        "start_period": {"type": "string", "pattern": r"^\d+(ms|s|m|h)$"},
        "retries": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}
_DEPENDS_ON: dict[str, Any] = {
    "oneOf": [
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "condition": {
                        "enum": ["service_started", "service_healthy", "service_completed_successfully"]
                    },
                    "restart": {"type": "boolean"},
                    "required": {"type": "boolean"},
                },
                "required": ["condition"],
                "additionalProperties": False,
            },
        },
    ]
}
_SERVICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "image": {"type": "string"},
        "build": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "context": {"type": "string"},
                        "dockerfile": {"type": "string"},
                        "target": {"type": "string"},
                        "args": _ENVIRONMENT,
                    },
                    "additionalProperties": False,
                },
            ]
        },
        "command": _STRING_OR_LIST,
        "entrypoint": _STRING_OR_LIST,
        "environment": _ENVIRONMENT,
        "ports": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^(\d+(\.\d+){3}:)?\d+(:\d+)?(/(tcp|udp))?$"},
            "uniqueItems": True,
        },
        "expose": {"type": "array", "items": {"type": ["string", "integer"]}},
        "volumes": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "depends_on": _DEPENDS_ON,
        "healthcheck": _HEALTHCHECK,
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
        "working_dir": {"type": "string"},
        "user": {"type": "string"},
        "ulimits": {
            "type": "object",
            "additionalProperties": {
                "oneOf": [
                    {"type": "integer"},
                    {
                        "type": "object",
                        "properties": {"soft": {"type": "integer"}, "hard": {"type": "integer"}},
                        "required": ["soft", "hard"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
    },
    "anyOf": [{"required": ["image"]}, {"required": ["build"]}],
    "additionalProperties": False,
}

COMPOSE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "services": {
            "type": "object",
            "patternProperties": {r"^[a-zA-Z0-9._-]+$": _SERVICE},
            "additionalProperties": False,
        },
        "volumes": {
            "type": "object",
            "patternProperties": {r"^[a-zA-Z0-9._-]+$": {"type": ["object", "null"]}},
            "additionalProperties": False,
        },
        "networks": {"type": "object"},
    },
    "patternProperties": {"^x-": {}},
    "required": ["services"],
    "additionalProperties": False,
}
