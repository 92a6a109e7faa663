"""A real Home Assistant core for han-push's tests (tests/homeassistant.rs).

  ha.py setup DIR HTTP_PORT MQTT_PORT   a fresh config dir; prints the token
  ha.py ws HTTP_PORT TOKEN MSG...       websocket commands (JSON); prints
                                        [{"success": ..., "result"|"error": ...}]
  ha.py warmup VENV                     starts that venv's hass once on such a
                                        config dir and stops it (scripts/ha-venv.sh)

The config dir is the smallest Home Assistant that runs MQTT discovery and
the energy dashboard's checks: no default_config (a fast start), http, api,
config (the registries over the websocket), energy (with recorder and
history); the MQTT integration as a config entry
written into .storage before the start (recent releases set MQTT up only
from a config entry), and an owner with a long-lived access token written
into .storage/auth, the token itself an HS256 JWT signed with that refresh
token's key, as Home Assistant makes them. The same files work for 2024.1
and 2025.x (older storage minor versions are migrated when loaded).

setup and warmup use the standard library only; ws needs aiohttp (run it
with the venv's python).
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CONFIGURATION = """\
homeassistant:
  name: han-push test
  latitude: 59.91
  longitude: 10.75
  elevation: 0
  unit_system: metric
  time_zone: Europe/Oslo
  currency: NOK
  country: "NO"
http:
  server_host: 127.0.0.1
  server_port: {http_port}
api:
config:
energy:
recorder:
  commit_interval: 0
"""


def store(key, data, minor=1):
    return {"version": 1, "minor_version": minor, "key": key, "data": data}


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def setup(conf_dir, http_port, mqtt_port):
    """Writes the config dir; returns the access token."""
    storage = os.path.join(conf_dir, ".storage")
    os.makedirs(storage, exist_ok=True)
    with open(os.path.join(conf_dir, "configuration.yaml"), "w") as f:
        f.write(CONFIGURATION.format(http_port=http_port))
    user_id, token_id, jwt_key = secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(64)
    auth = {
        "users": [
            {
                "id": user_id,
                "group_ids": ["system-admin"],
                "is_owner": True,
                "is_active": True,
                "name": "han-push test",
                "system_generated": False,
                "local_only": False,
            }
        ],
        "groups": [
            {"id": "system-admin", "name": "Administrators"},
            {"id": "system-users", "name": "Users"},
            {"id": "system-read-only", "name": "Read Only"},
        ],
        "credentials": [],
        "refresh_tokens": [
            {
                "id": token_id,
                "user_id": user_id,
                "client_id": None,
                "client_name": "han-push test",
                "client_icon": None,
                "token_type": "long_lived_access_token",
                "created_at": "2024-01-01T00:00:00+00:00",
                "access_token_expiration": 315360000.0,
                "token": secrets.token_hex(64),
                "jwt_key": jwt_key,
                "last_used_at": None,
                "last_used_ip": None,
                "credential_id": None,
                "version": None,
            }
        ],
    }
    entry = {
        "entry_id": secrets.token_hex(16),
        "version": 1,
        "minor_version": 1,
        "domain": "mqtt",
        "title": "127.0.0.1",
        "data": {"broker": "127.0.0.1", "port": int(mqtt_port)},
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": None,
        "disabled_by": None,
    }
    for name, data in [
        ("auth", store("auth", auth)),
        ("core.config_entries", store("core.config_entries", {"entries": [entry]})),
    ]:
        with open(os.path.join(storage, name), "w") as f:
            json.dump(data, f)
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"iss": token_id, "iat": now - 60, "exp": now + 315360000}).encode())
    sig = hmac.new(jwt_key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


async def ws_calls(port, token, messages):
    import aiohttp

    out = []
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"http://127.0.0.1:{port}/api/websocket") as ws:
            hello = await ws.receive_json()
            assert hello["type"] == "auth_required", hello
            await ws.send_json({"type": "auth", "access_token": token})
            ok = await ws.receive_json()
            if ok["type"] != "auth_ok":
                raise SystemExit(f"websocket auth: {ok}")
            for i, m in enumerate(messages, 1):
                await ws.send_json({**m, "id": i})
                while True:
                    r = await ws.receive_json()
                    if r.get("id") == i and r.get("type") == "result":
                        break
                out.append({k: r[k] for k in ("success", "result", "error") if k in r})
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warmup(venv):
    """Starts hass once on a test config dir (no broker: MQTT retries
    quietly), until its API answers, then stops it."""
    d = tempfile.mkdtemp(prefix="ha-warmup-")
    try:
        port = free_port()
        token = setup(d, port, free_port())
        log = open(os.path.join(d, "out.log"), "w")
        p = subprocess.Popen([os.path.join(venv, "bin", "hass"), "-c", d], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 900
        up = False
        while time.time() < deadline and p.poll() is None:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/config", headers={"Authorization": f"Bearer {token}"}
                )
                with urllib.request.urlopen(req, timeout=5) as r:
                    components = json.load(r)["components"]
                    if "energy" in components and "mqtt" in components:
                        up = True
                        break
            except Exception:
                pass
            time.sleep(1)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
        if not up:
            sys.stderr.write(open(os.path.join(d, "out.log")).read()[-5000:])
            return 1
        return 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main(argv):
    if len(argv) == 5 and argv[1] == "setup":
        print(setup(argv[2], int(argv[3]), int(argv[4])))
        return 0
    if len(argv) >= 4 and argv[1] == "ws":
        import asyncio

        msgs = [json.loads(m) for m in argv[4:]]
        print(json.dumps(asyncio.run(ws_calls(int(argv[2]), argv[3], msgs))))
        return 0
    if len(argv) == 3 and argv[1] == "warmup":
        return warmup(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
