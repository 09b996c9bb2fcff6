"""Which time zone's wall clock each service's traffic follows (``TSDEV_FORECAST_TIMEZONE``).

The setting is one IANA zone for every service, optionally followed by per-service exceptions:
``America/New_York`` or ``America/New_York,checkout=Europe/Berlin,search=Asia/Tokyo``. One parser
serves the server's settings, the forecast jobs and the CLI, so they all read it alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = "UTC"


def known_zone(name: str) -> str:
    """``name`` if the system knows the zone (IANA names: ``Europe/Berlin``), else ``ValueError``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name like 'Europe/Berlin'") from error
    return name


@dataclass(frozen=True)
class ServiceZones:
    """A default zone and the services that follow another one."""

    default: str = UTC_ZONE
    services: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> ServiceZones:
        """Read ``ZONE[,service=ZONE...]``; an empty default means UTC. Raises ``ValueError`` naming
        the bad part."""
        default = UTC_ZONE
        services: dict[str, str] = {}
        for position, part in enumerate(p.strip() for p in text.split(",")):
            if "=" in part:
                service, _, zone = (s.strip() for s in part.partition("="))
                if not service:
                    raise ValueError(f"{part!r}: a per-service zone needs a service name before '='")
                if service in services:
                    raise ValueError(f"service {service!r} is given a zone twice")
                services[service] = known_zone(zone)
            elif position == 0:
                default = known_zone(part) if part else UTC_ZONE
            elif part:
                raise ValueError(f"{part!r}: only the first entry may be a zone without 'service='")
        return cls(default, services)

    def for_service(self, service: str) -> str:
        return self.services.get(service, self.default)
