#!/usr/bin/env python3
"""Drive REAL Thunderbird's account-setup modules against a loopback server.

Used by tests/integration/thunderbird_real.rs (which starts mailsetup and
creates the venv with marionette-driver); runnable alone for debugging, see
--help.

Starts one headless Thunderbird on a fresh throw-away profile, connects with
Marionette (chrome context), imports Thunderbird's own modules from omni.ja
(modules/accountcreation/*.sys.mjs, OAuth2Providers.sys.mjs) and calls them
the way the Account Hub (chrome/.../accountcreation/views/email.mjs) does,
once per --case, all in the same Thunderbird session. Prints one JSON object
on stdout.

Modes (per case)
  isp-https      FetchConfig.fromISP(domain, email, signal); result must come
                 from an https:// URL (subSource "xml-from-isp-https").
  isp-http-only  the same call with port 443 sent to a closed loopback port,
                 so HTTPS is unavailable; result must come from an http:// URL
                 (subSource "xml-from-isp-http").
  exchange       fetchConfigFromExchange(domain, email, signal, null,
                 undefined, confirmCallback) -- POX autodiscover; result must
                 have source "exchange".
  wizard         FindConfig.parallelAutoDiscovery(...) (disk, ISP, ISPDB, MX
                 + Exchange in parallel) exactly as the Account Hub does.

Per case, --case-ports sends 443 and 80 to other local ports (another
server, or a recording relay in front of one), and --case-pref sets a boolean
preference in the profile (e.g. mail.graph.enabled) for that case only. Each
case reports the User-Agent Thunderbird sent, the Vary header it got, and
every incoming alternative with the OAuth2 issuer Thunderbird pairs with it.

Exit status: 0 every case found a config from the channel its mode names;
1 some case did not (its "error" says why; the caller may expect that);
2 the harness failed (Thunderbird did not start, Marionette failed, or the
--timeout bound was hit and Thunderbird was killed). On 1 and 2 the tail of
Thunderbird's log goes to stderr.

Needs: thunderbird (Debian package), libnss3-tools (certutil, optional),
pip marionette-driver. Only loopback is contacted: every host name resolves to
127.0.0.1 (network.dns.forceResolve), 443/80 are rewritten to the given ports
(network.socket.forcePort), DNS MX/SRV lookups are stubbed in-process, ISPDB
and add-on URLs point at the local http port.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from marionette_driver.marionette import Marionette

JS = r"""
const [mode, email, timeoutMs, forcePort, prefs, resolve] = arguments;
const t0 = Date.now();
// This case's preferences (as a user would set them in the profile), put
// back after the case so the next one starts from the profile's values.
const savedPrefs = {};
for (const [name, value] of Object.entries(prefs)) {
  savedPrefs[name] = Services.prefs.prefHasUserValue(name)
    ? Services.prefs.getBoolPref(name) : undefined;
  Services.prefs.setBoolPref(name, value);
}
function restorePrefs() {
  for (const [name, value] of Object.entries(savedPrefs)) {
    if (value === undefined) Services.prefs.clearUserPref(name);
    else Services.prefs.setBoolPref(name, value);
  }
}
// Where 443 and 80 go for this case (read on change by the socket service),
// and no idle connection from an earlier case may carry this one's requests.
Services.prefs.setCharPref("network.socket.forcePort", forcePort);
Services.obs.notifyObservers(null, "net:prune-all-connections");
const out = { mode, email, thunderbird: Services.appinfo.version };
// The User-Agent Thunderbird's HTTP stack sends (FetchHTTP adds none).
out.userAgent = Cc["@mozilla.org/network/protocol;1?name=http"]
  .getService(Ci.nsIHttpProtocolHandler).userAgent;
// Native Exchange over Microsoft Graph: off by default in 153.
out.graphEnabled = {
  value: Services.prefs.getBoolPref("mail.graph.enabled", false),
  default: Services.prefs.getDefaultBranch("").getBoolPref("mail.graph.enabled", null),
  userSet: Services.prefs.prefHasUserValue("mail.graph.enabled"),
};
const requests = [];
const dnsCalls = [];
const obs = {
  observe(subject, topic) {
    try {
      const ch = subject.QueryInterface(Ci.nsIHttpChannel);
      const url = ch.URI.spec;
      if (topic == "http-on-modify-request") {
        let userAgent = null;
        try { userAgent = ch.getRequestHeader("User-Agent"); } catch (e) {}
        requests.push({ url, method: ch.requestMethod, userAgent });
      } else {
        const r = requests.findLast(x => x.url == url && x.status === undefined);
        const rec = r || { url, method: ch.requestMethod };
        if (!r) requests.push(rec);
        rec.status = ch.responseStatus;
        rec.contentType = ch.getResponseHeader("Content-Type");
        try { rec.vary = ch.getResponseHeader("Vary"); } catch (e) { rec.vary = null; }
        try {
          const ci = ch.QueryInterface(Ci.nsIHttpChannelInternal);
          rec.remote = ci.remoteAddress + ":" + ci.remotePort;
        } catch (e) {}
      }
    } catch (e) {}
  },
};
Services.obs.addObserver(obs, "http-on-modify-request");
Services.obs.addObserver(obs, "http-on-examine-response");

function enumName(iface, value) {
  for (const k in iface) if (iface[k] === value) return k;
  return String(value);
}
function errToJSON(e) {
  if (!e) return e;
  if (typeof e != "object") return String(e);
  const o = { name: e.name || e.constructor?.name, message: String(e.message ?? e) };
  for (const k of ["code", "url", "result"]) if (e[k] !== undefined) o[k] = e[k];
  if (e.cause) o.cause = errToJSON(e.cause);
  if (e.errors) o.errors = Array.from(e.errors, errToJSON);
  if (e.stack) o.stack = String(e.stack).split("\n").slice(0, 6);
  return o;
}

(async () => {
  const { FetchConfig } = ChromeUtils.importESModule(
    "resource:///modules/accountcreation/FetchConfig.sys.mjs");
  const { FindConfig } = ChromeUtils.importESModule(
    "resource:///modules/accountcreation/FindConfig.sys.mjs");
  const { fetchConfigFromExchange } = ChromeUtils.importESModule(
    "resource:///modules/accountcreation/ExchangeAutoDiscover.sys.mjs");
  const { AccountConfig } = ChromeUtils.importESModule(
    "resource:///modules/accountcreation/AccountConfig.sys.mjs");
  const { OAuth2Providers } = ChromeUtils.importESModule(
    "resource:///modules/OAuth2Providers.sys.mjs");
  const { DNS } = ChromeUtils.importESModule("resource:///modules/DNS.sys.mjs");
  const { setTimeout, clearTimeout } = ChromeUtils.importESModule(
    "resource://gre/modules/Timer.sys.mjs");

  // The Account Hub itself, as a user drives it: open it, type a name and
  // the address, press Continue, and read its result step
  // (`email-config-found`) once it shows: the protocol choices it shows,
  // the one it marks recommended and preselects, and the incoming details
  // it displays for that one. The hub runs its own discovery (#findConfig).
  async function runAccountHub(email, timeoutMs) {
    const win = Services.wm.getMostRecentWindow("mail:3pane");
    await win.openAccountHub("MAIL");
    const container = win.document.querySelector("account-hub-container");
    try {
      const view = container.modal.querySelector("account-hub-email");
      await (view.wrappedJSObject ?? view).ready;
      const form = view.querySelector("#emailAutoConfigSubview");
      for (const [selector, value] of [["#realName", "Test User"], ["#email", email]]) {
        const input = form.querySelector(selector);
        input.value = value;
        input.dispatchEvent(new win.Event("input", { bubbles: true }));
      }
      const forward = view.querySelector("#emailFooter #forward");
      if (forward.disabled) throw new Error("the hub's Continue button stayed disabled");
      forward.click();
      const step = view.querySelector("#emailConfigFoundSubview");
      const deadline = Date.now() + timeoutMs;
      while (step.hidden && Date.now() < deadline) {
        await new Promise(r => setTimeout(r, 50));
      }
      if (step.hidden) {
        const shown = [...view.querySelectorAll(".account-hub-step")].find(s => !s.hidden);
        throw new Error(`the hub showed no config; it shows ${shown?.id}`);
      }
      const choices = [];
      for (const label of step.querySelectorAll("#protocolForm label")) {
        if (label.hidden) continue;
        choices.push({
          id: label.id,
          recommended: label.classList.contains("recommended-protocol"),
          checked: !!label.querySelector("input")?.checked,
        });
      }
      const field = id => step.querySelector("#" + id);
      return {
        choices,
        incoming: {
          type: field("incomingType").textContent,
          hostname: field("incomingHost").textContent,
          port: field("incomingPort").textContent,
          username: field("incomingUsername").textContent,
          authentication: field("incomingAuthenticationType").getAttribute("data-l10n-id"),
        },
      };
    } finally {
      container.modal.close();
    }
  }

  // MX / SRV / TXT lookups go through DNS.lookup -> a ctypes worker that calls
  // the system resolver (libresolv), bypassing network.dns.forceResolve.
  // Replace it so nothing leaves loopback: every lookup answers "no records".
  DNS.lookup = async (name, type) => { dnsCalls.push({ name, type }); return []; };

  const domain = email.split("@")[1];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error("tb_autoconfig timeout")), timeoutMs);
  let config;
  try {
    if (mode == "isp-https" || mode == "isp-http-only") {
      config = await FetchConfig.fromISP(domain, email, ac.signal);
    } else if (mode == "exchange") {
      config = await fetchConfigFromExchange(
        domain, email, ac.signal,
        null,        // username (null -> email address)
        undefined,   // password: none -> no Authorization header
        async (host, scheme) => {   // confirmCallback for 3rd-party redirects
          out.redirectConfirmAsked = { host, scheme };
          throw new Error(`redirect to ${host} refused by test`);
        });
    } else if (mode == "wizard") {
      const gen = FindConfig.parallelAutoDiscovery(domain, email, ac.signal, undefined, undefined);
      let r = await gen.next();
      if (r.value?.isRedirect) {
        out.redirectConfirmAsked = { host: r.value.host, scheme: r.value.scheme };
        r = await gen.next({ acceptRedirect: false });
      }
      config = r.value;
      if (config) FindConfig.ewsifyConfig(config);
    } else {
      throw new Error("unknown mode " + mode);
    }
    if (!config) throw new Error("no config found (discovery returned null)");
    out.ok = true;
  } catch (e) {
    out.ok = false;
    out.error = errToJSON(e);
  } finally {
    clearTimeout(timer);
  }

  if (config) {
    out.source = config.source;
    out.subSource = config.subSource;
    const rawUser = { in: config.incoming.username, out: config.outgoing.username };
    // What the Account Hub does before showing the config (#fillAccountConfig).
    AccountConfig.replaceVariables(config, "Test User", email, "");
    const srv = (s, raw) => s && ({
      type: s.type,
      hostname: s.hostname,
      port: s.port,
      socketType: enumName(Ci.nsMsgSocketType, s.socketType),
      socketTypeValue: s.socketType,
      auth: enumName(Ci.nsMsgAuthMethod, s.auth),
      authValue: s.auth,
      username: s.username,
      usernameTemplate: raw,
      url: s.url ?? null,
      exchangeURL: s.exchangeURL ?? null,
    });
    out.incoming = srv(config.incoming, rawUser.in);
    out.outgoing = srv(config.outgoing, rawUser.out);
    // The OAuth2 provider Thunderbird pairs with a server (by host and type;
    // Graph's scopes only while mail.graph.enabled is on).
    const oauth = (s) => {
      if (!s?.hostname) return null;
      const d = OAuth2Providers.getHostnameDetails(s.hostname, s.type);
      return d ? { issuer: d.issuer, requiredScopes: d.requiredScopes, allScopes: d.allScopes } : null;
    };
    out.incomingAlternatives = config.incomingAlternatives.map(
      s => ({ ...srv(s, s.username), oauth2: oauth(s) }));
    out.outgoingAlternatives = config.outgoingAlternatives.map(s => srv(s, s.username));
    out.oauth2 = { incoming: oauth(config.incoming), outgoing: oauth(config.outgoing) };
    if (mode == "wizard") {
      try {
        out.hub = await runAccountHub(email, Math.max(1000, timeoutMs - (Date.now() - t0)));
      } catch (e) {
        out.hub = { error: errToJSON(e) };
      }
    }
  }
  // Let late responses land in the request log.
  await new Promise(r => setTimeout(r, 50));
  Services.obs.removeObserver(obs, "http-on-modify-request");
  Services.obs.removeObserver(obs, "http-on-examine-response");
  out.requests = requests;
  out.dnsLookupsStubbed = dnsCalls;
  // Winning URL: first 2xx response in Thunderbird's priority order whose
  // scheme matches subSource (fetchHTTP itself does not keep the URL).
  const scheme = /isp-(https?)/.exec(out.subSource || "")?.[1];
  const ok2xx = requests.filter(r => r.status >= 200 && r.status < 300 &&
    (!scheme || r.url.startsWith(scheme + ":")));
  out.sourceURL = ok2xx.length ? ok2xx[0].url : null;
  // Exchange: subSource names the winner (url1/url2/url3/srv), see
  // ExchangeAutoDiscover.sys.mjs.
  const ex = /exchange-from-(url[123])/.exec(out.subSource || "")?.[1];
  if (ex) {
    const d = email.split("@")[1];
    out.sourceURL = {
      url1: `https://autodiscover.${d}/autodiscover/autodiscover.xml`,
      url2: `https://${d}/autodiscover/autodiscover.xml`,
      url3: `http://autodiscover.${d}/autodiscover/autodiscover.xml`,
    }[ex];
  }
  out.fetchMs = Date.now() - t0;
  out.forcePort = forcePort;
  restorePrefs();
  resolve(out);
})().catch(e => { restorePrefs(); resolve({ ok: false, mode, email, error: errToJSON(e), requests }); });
"""

TRUST_JS = r"""
const [b64, resolve] = arguments;
const db = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
const c = db.addCertFromBase64(b64, "C,,");
resolve(c.subjectName);
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def write_user_js(profile, https_port, http_port):
    loop_http = f"http://127.0.0.1:{http_port}"
    prefs = {
        # --- send every host name to the loopback stand-in -------------------
        "network.dns.forceResolve": "127.0.0.1",
        "network.socket.forcePort": f"443={https_port};80={http_port}",
        "network.trr.mode": 5,                       # DoH off
        "network.dns.disablePrefetch": True,
        "network.prefetch-next": False,
        "network.proxy.type": 0,
        "network.captive-portal-service.enabled": False,
        # every case must reach the server, not an earlier case's cached answer
        "browser.cache.disk.enable": False,
        "browser.cache.memory.enable": False,
        "network.connectivity-service.enabled": False,
        "security.OCSP.enabled": 0,
        "security.remote_settings.crlite_filters.enabled": False,
        "services.settings.server": loop_http + "/remote-settings-disabled",
        # --- account setup: no real ISPDB / add-on list ----------------------
        "mailnews.auto_config_url": loop_http + "/ispdb-disabled/",
        "mailnews.auto_config.addons_url": loop_http + "/addons-disabled.json",
        "mailnews.auto_config.fetchFromISP.enabled": True,
        "mailnews.auto_config.fetchFromISP.sslOnly": False,
        "mailnews.auto_config.fetchFromExchange.enabled": True,
        "mail.setup.loglevel": "All",                # gAccountSetupLogger
        "devtools.console.stdout.chrome": True,      # console.* -> stdout log
        "browser.dom.window.dump.enabled": True,
        # --- no updates / telemetry / add-on checks / first-run UI -----------
        "app.update.enabled": False,
        "app.update.auto": False,
        "app.update.checkInstallTime": False,
        "app.update.disabledForTesting": True,
        "extensions.update.enabled": False,
        "extensions.update.autoUpdateDefault": False,
        "extensions.getAddons.cache.enabled": False,
        "extensions.blocklist.enabled": False,
        "extensions.systemAddon.update.enabled": False,
        "datareporting.healthreport.uploadEnabled": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.enabled": False,
        "toolkit.telemetry.unified": False,
        "toolkit.telemetry.server": loop_http + "/telemetry-disabled",
        "mail.shell.checkDefaultClient": False,
        "mail.provider.enabled": False,
        "mailnews.start_page.enabled": False,
        "mail.rights.override": True,
        "mail.spotlight.firstRunDone": True,
        "mail.winsearch.firstRunDone": True,
        "mail.inappnotifications.enabled": False,
        "browser.safebrowsing.update.enabled": False,
        "geo.enabled": False,
        "messaging-system.rsexperimentloader.enabled": False,
        "browser.shell.checkDefaultBrowser": False,
        "toolkit.startup.max_resumed_crashes": -1,
        # --- marionette -------------------------------------------------------
        "marionette.port": 0,    # ephemeral; real port in <profile>/MarionetteActivePort
        "remote.prefs.recommended": True,
    }
    with open(os.path.join(profile, "user.js"), "w") as f:
        for k, v in prefs.items():
            f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")


def trust_ca_certutil(profile, ca):
    certutil = shutil.which("certutil")
    if not certutil:
        return False
    db = "sql:" + profile
    subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    subprocess.run([certutil, "-A", "-d", db, "-n", "mailsetup-test-ca", "-t", "C,,", "-i", ca],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return True


def pem_to_b64(path):
    lines = open(path).read().splitlines()
    body, inside = [], False
    for ln in lines:
        if ln.startswith("-----BEGIN CERTIFICATE"):
            inside = True
        elif ln.startswith("-----END CERTIFICATE"):
            break
        elif inside:
            body.append(ln.strip())
    return "".join(body)


def tree_rss_kb(pid):
    """RSS (kB) of pid and all descendants, plus the biggest VmHWM seen."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except OSError:
                pass
    total, hwm, n, todo = 0, 0, 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                st = dict(ln.split(":", 1) for ln in f if ":" in ln)
            total += int(st.get("VmRSS", "0 kB").split()[0])
            hwm = max(hwm, int(st.get("VmHWM", "0 kB").split()[0]))
            n += 1
        except OSError:
            pass
    return total, hwm, n


def expectation_error(case):
    """Why a case's result does not match what its mode promises, or None."""
    if not case.get("ok"):
        return None  # already failed, with its own error
    sub = case.get("subSource") or ""
    # readFromXML names the channel "xml-from-" + what FetchConfig passed in.
    want = {"isp-https": "xml-from-isp-https",
            "isp-http-only": "xml-from-isp-http"}.get(case["mode"])
    if want and sub != want:
        return f"mode {case['mode']} expects subSource {want!r}, got {sub!r}"
    if case["mode"] == "exchange" and case.get("source") != "exchange":
        return f"expected source 'exchange', got {case.get('source')!r}"
    return None


def print_log_tail(logpath):
    try:
        noise = ("Gtk-CRITICAL", "gtk_icon_theme", "nsSigHandlers.cpp")
        with open(logpath, errors="replace") as f:
            lines = [ln for ln in f.read().splitlines()
                     if ln.strip() and not any(n in ln for n in noise)]
        sys.stderr.write("---- thunderbird log (last 300 lines) ----\n")
        sys.stderr.write("\n".join(lines[-300:]) + "\n")
    except OSError as e:
        sys.stderr.write(f"no thunderbird log: {e}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--thunderbird", default="/usr/lib/thunderbird/thunderbird")
    ap.add_argument("--ca", help="PEM of the test CA to trust in the profile")
    ap.add_argument("--https-port", type=int, help="local port standing in for 443")
    ap.add_argument("--http-port", type=int, required=True, help="local port standing in for 80")
    ap.add_argument("--case", action="append", nargs=3, metavar=("NAME", "MODE", "EMAIL"),
                    required=True, help="one discovery to run; repeat for more (same session)")
    ap.add_argument("--case-ports", action="append", nargs=3, default=[],
                    metavar=("NAME", "HTTPS_PORT", "HTTP_PORT"),
                    help="local ports standing in for 443 and 80 during case NAME "
                         "(default: --https-port and --http-port)")
    ap.add_argument("--case-pref", action="append", nargs=3, default=[],
                    metavar=("NAME", "PREF", "true|false"),
                    help="a boolean preference set in the profile for case NAME only "
                         "(e.g. mail.graph.enabled); put back after the case")
    ap.add_argument("--timeout", type=float, default=60,
                    help="bound in seconds for the whole session; Thunderbird is killed after it")
    ap.add_argument("--case-timeout", type=float, default=30,
                    help="bound in seconds for one case's discovery (aborted after it)")
    ap.add_argument("--workdir", default=tempfile.gettempdir(),
                    help="a fresh directory for the profile, home and log is made in here")
    ap.add_argument("--trust", choices=["certutil", "xpcom"], default="certutil",
                    help="how to trust --ca (certutil needs libnss3-tools)")
    ap.add_argument("--keep-profile", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    modes = ("isp-https", "isp-http-only", "exchange", "wizard")
    names = {name for name, _, _ in a.case}
    case_ports, case_prefs = {}, {}
    for name, https, http in a.case_ports:
        if name not in names:
            ap.error(f"--case-ports names no case {name!r}")
        case_ports[name] = (int(https), int(http))
    for name, pref, value in a.case_pref:
        if name not in names:
            ap.error(f"--case-pref names no case {name!r}")
        if value not in ("true", "false"):
            ap.error(f"--case-pref {name} {pref}: {value!r} is not true or false")
        case_prefs.setdefault(name, {})[pref] = value == "true"
    for name, mode, _ in a.case:
        if mode not in modes:
            ap.error(f"case {name}: mode {mode!r} is not one of {', '.join(modes)}")
        if mode != "isp-http-only" and not (a.https_port and a.ca):
            ap.error(f"case {name}: --https-port and --ca are required for mode {mode}")

    t_start = time.monotonic()
    os.makedirs(a.workdir, exist_ok=True)
    root = tempfile.mkdtemp(prefix="tb-autoconfig-", dir=a.workdir)
    profile = os.path.join(root, "profile")
    home = os.path.join(root, "home")
    os.makedirs(profile)
    os.makedirs(home)
    logpath = os.path.join(root, "thunderbird.log")
    # "HTTPS unavailable": 443 goes to a loopback port nobody listens on, so
    # every https:// fetch is refused at once and Thunderbird falls back.
    closed_port = free_port()
    https_port = a.https_port or closed_port
    write_user_js(profile, https_port, a.http_port)

    trust_via = None
    if a.ca and a.trust == "certutil" and trust_ca_certutil(profile, a.ca):
        trust_via = "certutil"

    env = dict(os.environ)
    env.update({
        "HOME": home,                     # keep ~/.thunderbird etc. out of the real home
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "MOZ_HEADLESS": "1",
        "MOZ_CRASHREPORTER_DISABLE": "1",
        "MOZ_DISABLE_AUTO_SAFE_MODE": "1",
        "MOZ_NO_REMOTE": "1",
    })
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)

    result = {"ok": False, "cases": []}
    proc = None
    logf = open(logpath, "wb")
    timed_out = threading.Event()
    timings = {}
    mem = {}
    try:
        cmd = [a.thunderbird, "--headless", "--marionette", "-remote-allow-system-access",
               "--no-remote", "-profile", profile]
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        # Lets a caller that has to kill this driver find Thunderbird too.
        with open(os.path.join(root, "thunderbird.pid"), "w") as f:
            f.write(f"{proc.pid}\n")

        def watchdog():
            if proc.poll() is None:
                timed_out.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        wd = threading.Timer(a.timeout, watchdog)
        wd.daemon = True
        wd.start()

        portfile = os.path.join(profile, "MarionetteActivePort")
        while not os.path.exists(portfile) or not open(portfile).read().strip():
            if proc.poll() is not None:
                raise RuntimeError(f"thunderbird exited early rc={proc.returncode}")
            time.sleep(0.05)
        port = int(open(portfile).read().strip())
        timings["marionette_port_s"] = round(time.monotonic() - t_start, 2)

        m = Marionette(host="127.0.0.1", port=port, startup_timeout=max(5, int(a.timeout)))
        m.start_session()
        m.set_context(m.CONTEXT_CHROME)
        timings["session_s"] = round(time.monotonic() - t_start, 2)
        if a.ca and trust_via is None:
            m.execute_async_script(TRUST_JS, script_args=[pem_to_b64(a.ca)], script_timeout=10000)
            trust_via = "nsIX509CertDB.addCertFromBase64"

        for name, mode, email in a.case:
            remaining_s = a.timeout - (time.monotonic() - t_start)
            budget_ms = int(max(1, min(a.case_timeout, remaining_s)) * 1000)
            port_443, port_80 = case_ports.get(name, (https_port, a.http_port))
            if mode == "isp-http-only":
                port_443 = closed_port
            prefs = case_prefs.get(name, {})
            t_case = time.monotonic()
            case = m.execute_async_script(
                JS, script_args=[mode, email, budget_ms, f"443={port_443};80={port_80}", prefs],
                script_timeout=budget_ms + 2000)
            case = {"name": name, **dict(case or {})}
            mismatch = expectation_error(case)
            if mismatch:
                case["ok"] = False
                case["error"] = {"message": mismatch}
            result["cases"].append(case)
            timings[f"case_{name}_s"] = round(time.monotonic() - t_case, 2)
        timings["total_s"] = round(time.monotonic() - t_start, 2)
        rss, hwm, nproc = tree_rss_kb(proc.pid)
        mem = {"rss_tree_mb": round(rss / 1024), "main_peak_mb": round(hwm / 1024), "processes": nproc}
        result["ok"] = True  # the harness ran every case
        try:
            m.delete_session()
        except Exception:
            pass
    except Exception as e:  # marionette/timeout/startup failure
        result["ok"] = False
        result["error"] = {"name": type(e).__name__, "message": str(e)}
        if timed_out.is_set():
            result["error"]["timeout"] = f"killed thunderbird after {a.timeout}s"
    finally:
        if proc and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(5)
            except Exception:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        logf.close()

    result["ca_trusted_via"] = trust_via
    result["timings"] = timings
    result["memory"] = mem
    if not result["ok"]:
        status = 2
    elif all(c.get("ok") for c in result["cases"]):
        status = 0
    else:
        status = 1
    print(json.dumps(result, indent=2))
    sys.stdout.flush()
    if status != 0:
        print_log_tail(logpath)
    if a.keep_profile:
        sys.stderr.write(f"kept {root}\n")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return status

if __name__ == "__main__":
    sys.exit(main())
