"""The highly available topology as data: ports, names and every process's configuration.

Why one dict per process, generated here: the Patroni YAML, the etcd flags and the HAProxy
file of a running cluster are all derived from one ``Topology`` (saved as ``ha.json``), so what
``emining cluster status`` reports, what the tests kill and what the docs describe cannot drift
apart. Nothing here decides a failover: Patroni does, holding its leader key in etcd; HAProxy
only follows Patroni's REST answers.

Read-your-writes: Patroni's synchronous mode with ``synchronous_node_count`` covering every
replica and ``synchronous_commit = remote_apply``: a commit is acknowledged only once each
synchronous standby has *applied* it, and HAProxy's read-only port sends reads only to members
Patroni lists as synchronous (``/sync``), falling back to the primary. So a caller who has just
written, or anyone else, reads the write on their next request, from any replica, with no token
to carry (see docs/ha.md for the cost and the window in which it does not hold).
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

SCOPE = "emining"
SUPERUSER = "emining"
REPLICATOR = "replicator"
DATABASE = "emining"
MEMBERS = ("pg1", "pg2", "pg3")
ETCD = ("etcd1", "etcd2", "etcd3")
APIS = ("api1", "api2")

# Patroni's dynamic settings (kept in etcd, the same for every member). Tuned for a fast test
# of failover: the leader key lives ``ttl`` seconds after its holder stops renewing it, members
# run their loop every ``loop_wait`` s; Patroni needs loop_wait + 2 × retry_timeout <= ttl.
DCS = {
    "ttl": 10,
    "loop_wait": 1,
    "retry_timeout": 4,
    "maximum_lag_on_failover": 1_048_576,
    "synchronous_mode": True,
    "synchronous_node_count": len(MEMBERS) - 1,  # every replica: each one a read target
    "postgresql": {
        "use_pg_rewind": True,  # a killed primary rejoins as a replica of the new one
        "use_slots": True,
        "parameters": {
            "synchronous_commit": "remote_apply",  # acknowledged = applied on every sync standby
            "hot_standby": "on",
            "hot_standby_feedback": "on",  # replicas' reads hold back vacuum, not the reverse
            "wal_level": "replica",
            "wal_log_hints": "on",
            "wal_keep_size": "256MB",
            "max_wal_senders": 10,
            "max_replication_slots": 10,
            "max_connections": 100,
            "shared_buffers": "64MB",  # three members share one machine here
            "jit": "off",
        },
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Topology:
    """Where every process of one cluster listens, and its secrets (saved as ``ha.json``)."""

    home: str
    etcd_client: dict[str, int] = field(default_factory=dict)
    etcd_peer: dict[str, int] = field(default_factory=dict)
    pg: dict[str, int] = field(default_factory=dict)
    rest: dict[str, int] = field(default_factory=dict)
    api: dict[str, int] = field(default_factory=dict)
    rw: int = 0
    ro: int = 0
    balancer: int = 0  # HAProxy's HTTP front of the API processes
    password: str = ""
    replication_password: str = ""
    parameters: dict[str, str] = field(default_factory=dict)  # extra PostgreSQL settings

    @classmethod
    def new(cls, home: Path, parameters: dict[str, str] | None = None) -> Topology:
        used: set[int] = set()

        def port() -> int:
            while (chosen := free_port()) in used:
                pass
            used.add(chosen)
            return chosen

        return cls(
            home=str(home),
            etcd_client={name: port() for name in ETCD},
            etcd_peer={name: port() for name in ETCD},
            pg={name: port() for name in MEMBERS},
            rest={name: port() for name in MEMBERS},
            api={name: port() for name in APIS},
            rw=port(),
            ro=port(),
            balancer=port(),
            password=secrets.token_urlsafe(18),
            replication_password=secrets.token_urlsafe(18),
            parameters=dict(parameters or {}),
        )

    def as_dict(self) -> dict:
        return asdict(self)

    # -- paths -------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return Path(self.home)

    def datadir(self, member: str) -> Path:
        return self.root / member / "data"

    def sockdir(self, member: str) -> Path:
        """Unix socket folder: socket paths are limited to ~107 bytes, long homes use /tmp."""
        folder = self.root / "run" / member
        if len(str(folder)) > 80:
            digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
            folder = Path(tempfile.gettempdir()) / f"emining-ha-{digest}" / member
        return folder

    # -- addresses ---------------------------------------------------------------------------
    def url(self, port: int, database: str = DATABASE) -> str:
        password = quote(self.password, safe="")
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/{database}"

    @property
    def write_url(self) -> str:
        """The primary, through HAProxy's read-write port."""
        return self.url(self.rw)

    @property
    def read_url(self) -> str:
        """A synchronous replica (the primary when none is), through HAProxy's read-only port."""
        return self.url(self.ro)

    def member_url(self, member: str, database: str = DATABASE) -> str:
        return self.url(self.pg[member], database)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.balancer}"

    def etcd_hosts(self) -> list[str]:
        return [f"127.0.0.1:{self.etcd_client[name]}" for name in ETCD]


def etcd_command(topology: Topology, name: str) -> list[str]:
    """One member of the three-member etcd cluster (Patroni's consensus store)."""

    def peer(member: str) -> str:
        return f"http://127.0.0.1:{topology.etcd_peer[member]}"

    client = f"http://127.0.0.1:{topology.etcd_client[name]}"
    return [
        "etcd",
        f"--name={name}",
        f"--data-dir={topology.root / 'etcd' / name}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer(name)}",
        f"--initial-advertise-peer-urls={peer(name)}",
        "--initial-cluster=" + ",".join(f"{m}={peer(m)}" for m in ETCD),
        f"--initial-cluster-token={SCOPE}-{Path(topology.home).name}",
        "--initial-cluster-state=new",  # ignored once the data folder exists (a restart)
        "--logger=zap",
        "--log-outputs=stderr",
    ]


def patroni_config(topology: Topology, member: str, bindir: Path) -> dict:
    """One member's Patroni configuration (written as YAML next to its data folder)."""
    pg_port, rest_port = topology.pg[member], topology.rest[member]
    superuser = {"username": SUPERUSER, "password": topology.password}
    return {
        "scope": SCOPE,
        "namespace": "/service/",
        "name": member,
        "log": {"level": "INFO", "format": "%(asctime)s %(levelname)s: %(message)s"},
        "restapi": {
            "listen": f"127.0.0.1:{rest_port}",
            "connect_address": f"127.0.0.1:{rest_port}",
        },
        "etcd3": {"hosts": topology.etcd_hosts()},
        "bootstrap": {
            "dcs": DCS,
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{pg_port}",
            "connect_address": f"127.0.0.1:{pg_port}",
            "use_unix_socket": True,
            "data_dir": str(topology.datadir(member)),
            "bin_dir": str(bindir),
            "pgpass": str(topology.root / member / "pgpass"),
            # A new replica's base backup starts at once instead of after a spread checkpoint.
            "basebackup": [{"checkpoint": "fast"}],
            "authentication": {
                "superuser": superuser,
                "replication": {
                    "username": REPLICATOR,
                    "password": topology.replication_password,
                },
                "rewind": superuser,
            },
            "parameters": {
                "unix_socket_directories": str(topology.sockdir(member)),
                **topology.parameters,
            },
            "pg_hba": [
                "local all all trust",
                f"host replication {REPLICATOR} 127.0.0.1/32 scram-sha-256",
                "host all all 127.0.0.1/32 scram-sha-256",
            ],
            "remove_data_directory_on_rewind_failure": True,
            "remove_data_directory_on_diverged_timelines": True,
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }


def haproxy_config(topology: Topology) -> str:
    """HAProxy: the primary on ``rw``, synchronous replicas on ``ro`` (else the primary), and the
    API processes behind one HTTP port.

    Routing follows Patroni's REST checks every half second; a server that fails them has its
    connections cut (``shutdown-sessions``), so the API's pools reconnect to the new primary, and
    a replica that leaves the synchronous set stops serving reads that might miss a write.
    """
    check = "inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions"

    def servers() -> str:
        return "".join(
            f"    server {m} 127.0.0.1:{topology.pg[m]} check port {topology.rest[m]}\n"
            for m in MEMBERS
        )

    apis = "".join(
        f"    server {name} 127.0.0.1:{port} check inter 1s\n"
        for name, port in topology.api.items()
    )
    return f"""global
    maxconn 2000
    log stderr format raw local0 info

defaults
    log global
    mode tcp
    option dontlognull
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s
    timeout queue 30s

backend primary
    option httpchk OPTIONS /primary
    http-check expect status 200
    default-server {check}
{servers()}
backend replicas
    balance leastconn
    option httpchk OPTIONS /sync
    http-check expect status 200
    default-server {check}
{servers()}
frontend rw
    bind 127.0.0.1:{topology.rw}
    default_backend primary

frontend ro
    bind 127.0.0.1:{topology.ro}
    use_backend replicas if {{ nbsrv(replicas) gt 0 }}
    default_backend primary

listen api
    mode http
    bind 127.0.0.1:{topology.balancer}
    balance roundrobin
    option http-server-close
    timeout client 60s
    timeout server 60s
    retry-on conn-failure empty-response
    retries 2
    option redispatch
{apis}"""


# -- the same topology as docker-compose.yml's `ha` profile (docker/ha/) ----------------------


def compose_patroni_config() -> dict:
    """docker/ha/patroni.yml: what every compose member shares; the per-member values (name,
    addresses, passwords) come from PATRONI_* variables in docker-compose.yml."""
    return {
        "scope": SCOPE,
        "namespace": "/service/",
        "log": {"level": "INFO"},
        "etcd3": {"hosts": ["etcd1:2379", "etcd2:2379", "etcd3:2379"]},
        "bootstrap": {
            "dcs": DCS,
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            "post_bootstrap": "/usr/local/bin/emining-db post-bootstrap",  # CREATE DATABASE
        },
        "postgresql": {
            "data_dir": "/var/lib/postgresql/patroni",
            "bin_dir": "/usr/lib/postgresql/15/bin",
            "pgpass": "/tmp/pgpass",
            "basebackup": [{"checkpoint": "fast"}],
            "pg_hba": [
                "local all all trust",
                f"host replication {REPLICATOR} all scram-sha-256",
                "host all all all scram-sha-256",
            ],
            "remove_data_directory_on_rewind_failure": True,
            "remove_data_directory_on_diverged_timelines": True,
        },
    }


def compose_haproxy_config() -> str:
    """docker/ha/haproxy.cfg: the ports of ``haproxy_config`` for the compose members."""
    members = {name: 5432 for name in MEMBERS}
    topology = Topology(home="/", pg=members, rest={name: 8008 for name in MEMBERS},
                        rw=5000, ro=5001)  # fmt: skip
    text = haproxy_config(topology)
    text = text[: text.index("listen api")]  # compose balances its APIs itself
    for name in MEMBERS:
        text = text.replace(f"server {name} 127.0.0.1:", f"server {name} {name}:")
    return text.replace("bind 127.0.0.1:", "bind *:")


if __name__ == "__main__":  # python -m geo.ha_config: rewrite docker/ha/ from the dicts above
    import yaml

    folder = Path(__file__).resolve().parents[1] / "docker" / "ha"
    folder.mkdir(parents=True, exist_ok=True)
    header = "# Generated by `python -m geo.ha_config` from geo/ha_config.py: edit that instead.\n"
    (folder / "patroni.yml").write_text(header + yaml.safe_dump(compose_patroni_config()))
    (folder / "haproxy.cfg").write_text(header + compose_haproxy_config())
