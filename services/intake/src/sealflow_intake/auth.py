"""Bearer-JWT authentication. The token's `sub` is a person id; who that person is (roles, village)
comes from routing's org directory, never from the token, so a token cannot claim authority."""

import time
from dataclasses import dataclass

import jwt
from faststream.nats import NatsBroker
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import ServiceUnavailable, rpc_call

from sealflow_intake.config import IntakeSettings
from sealflow_intake.errors import ApiError

OVERSIGHT_ROLES = {"discipline", "admin"}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    village_id: str | None
    roles: tuple[str, ...]
    active: bool = True

    @property
    def oversees(self) -> bool:
        """Reads every matter: the discipline inspector and the administrator."""
        return bool(OVERSIGHT_ROLES & set(self.roles))


class Authenticator:
    def __init__(self, settings: IntakeSettings, broker: NatsBroker) -> None:
        self._settings = settings
        self._broker = broker
        self._cache: dict[str, tuple[float, Person]] = {}
        if settings.jwt_public_key:
            self._key, self._algorithms = settings.jwt_public_key, ["RS256"]
        else:
            self._key, self._algorithms = settings.jwt_secret, ["HS256"]

    def person_id(self, authorization: str | None) -> str:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError("unauthenticated", "send Authorization: Bearer <token>")
        try:
            claims = jwt.decode(
                authorization[7:].strip(),
                self._key,
                algorithms=self._algorithms,
                issuer=self._settings.jwt_issuer,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError as error:
            raise ApiError("invalid_token", f"the bearer token is not valid: {error}") from error
        return str(claims["sub"])

    async def person(self, authorization: str | None) -> Person:
        """The caller: an active person of the directory. A deactivated person's tokens stop working."""
        return self.refuse_inactive(await self.lookup(self.person_id(authorization)))

    @staticmethod
    def refuse_inactive(person: Person) -> Person:
        if not person.active:
            raise ApiError("person_inactive", f"{person.name}（{person.id}）已停用，不能再登录 (this person is deactivated)")
        return person

    def forget(self, person_ids: list[str] | None = None) -> None:
        """Drop cached people (all when None): the directory changed, read them again on next use."""
        if person_ids is None:
            self._cache.clear()
        for person_id in person_ids or []:
            self._cache.pop(person_id, None)

    async def lookup(self, person_id: str) -> Person:
        """The person as the org directory knows them, deactivated or not (cached briefly, and forgotten when
        routing announces a change to them); `unknown_person` if not there."""
        cached = self._cache.get(person_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            reply = await rpc_call(self._broker, subjects.RPC_WHOIS, m.WhoIs(person_id=person_id), timeout=5.0)
        except ServiceUnavailable as error:
            raise ApiError("service_unavailable", "the org directory is not answering; try again") from error
        if not reply.ok:
            raise ApiError("unknown_person", f"{person_id} is not in the org directory")
        r = reply.result
        person = Person(id=r["id"], name=r["name"], village_id=r.get("village_id"), roles=tuple(r["roles"]), active=r.get("active", True))
        self._cache[person_id] = (time.monotonic() + self._settings.person_cache_seconds, person)
        return person


def mint_token(person_id: str, secret: str, *, hours: float = 12.0) -> str:
    """An HS256 token for local use (`sealflow token`); a real gateway mints RS256 tokens instead."""
    now = int(time.time())
    return jwt.encode({"sub": person_id, "iat": now, "exp": now + int(hours * 3600)}, secret, algorithm="HS256")
