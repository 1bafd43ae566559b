#!/usr/bin/env python3
"""check_deploy.py: offline validation of deploy/ (the Dockerfile, the compose file, the Kubernetes manifests).

No network and no cluster: every YAML file must parse (PyYAML, Debian's python3-yaml), each Kubernetes object must
carry the keys its kind requires and its references must resolve inside deploy/k8s (Service selectors, probe
ports, HPA targets, secret names), the compose file must wire duet to PostgreSQL and a GPU vLLM upstream, and the
Dockerfile must follow our rules (Debian 12 bases, multi-stage, non-root, a HEALTHCHECK on /health).

  check_deploy.py DEPLOY_DIR     check the files; every problem is printed as FILE: WHERE: WHAT; exit 1 if any
  check_deploy.py --self-test DEPLOY_DIR
                                 break copies of the files in known ways and require each break to be reported
Exit 77 (ctest's SKIP_RETURN_CODE) with a loud message when python3-yaml is missing.
"""
import copy
import os
import re
import sys

try:
    import yaml
except ImportError:
    print("*** check_deploy.py: python3-yaml is not installed (apt-get install python3-yaml, or ./duet.sh setup): "
          "deploy/ NOT validated, test SKIPPED ***", file=sys.stderr)
    sys.exit(77)

DUET_PORT = 8080
UPSTREAM_ARG = re.compile(r"^[A-Za-z0-9._-]+=https?://[^\s#]+(#\S+)?$")  # --upstream NAME=URL[#model]


# ---- YAML ----

def load_yaml_documents(path):
    """Every document of a YAML file, or raises ValueError naming the file and line."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise ValueError(f"{path}: {where}: not valid YAML: {getattr(e, 'problem', e)}")


def get(obj, dotted, default=None):
    for key in dotted.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


# ---- Kubernetes ----

REQUIRED_BY_KIND = {
    "Deployment": ["spec.selector.matchLabels", "spec.template.metadata.labels", "spec.template.spec.containers"],
    "StatefulSet": ["spec.serviceName", "spec.selector.matchLabels", "spec.template.metadata.labels",
                    "spec.template.spec.containers"],
    "Service": ["spec.selector", "spec.ports"],
    "HorizontalPodAutoscaler": ["spec.scaleTargetRef.kind", "spec.scaleTargetRef.name", "spec.maxReplicas",
                                "spec.metrics"],
    "Secret": [],
    "Kustomization": ["resources"],
}
API_VERSION_BY_KIND = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Service": "v1", "Secret": "v1",
                       "HorizontalPodAutoscaler": "autoscaling/v2",
                       "Kustomization": "kustomize.config.k8s.io/v1beta1"}


def check_container(errors, where, c, secrets):
    for key in ("name", "image"):
        if not c.get(key):
            errors.append(f"{where}: container without {key}")
    port_names = {p.get("name") for p in c.get("ports", [])}
    port_numbers = {p.get("containerPort") for p in c.get("ports", [])}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = get(c, f"{probe}.httpGet.port")
        if port is not None and port not in port_names and port not in port_numbers:
            errors.append(f"{where}: {probe} uses port {port!r}, which the container does not declare")
    for env in c.get("env", []):
        ref = get(env, "valueFrom.secretKeyRef")
        if ref and ref.get("name") in secrets and ref.get("key") not in secrets[ref["name"]]:
            errors.append(f"{where}: env {env.get('name')} reads key {ref.get('key')!r} missing from secret "
                          f"{ref['name']!r}")


def check_duet_container(errors, where, c, env_names):
    args = [str(a) for a in c.get("args", c.get("command", []))]
    if get(c, "readinessProbe.httpGet.path") != "/health":
        errors.append(f"{where}: duet needs a readinessProbe httpGet on /health")
    if "serve" not in args:
        errors.append(f"{where}: duet's args do not run `serve`")
    check_duet_args(errors, where, args, env_names)


def check_duet_args(errors, where, args, env_names):
    def value_of(flag):
        return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None

    store = value_of("--store")
    if not store or not re.match(r"^postgres(ql)?://", store):
        errors.append(f"{where}: duet needs --store postgres://… (the shared store of the replicas)")
    elif re.match(r"^postgres(ql)?://[^/@]*:[^/@]*@", store):
        errors.append(f"{where}: the --store URL carries a password; pass it as PGPASSWORD from a secret")
    upstreams = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--upstream"]
    if not upstreams:
        errors.append(f"{where}: duet has no --upstream NAME=URL[#model]")
    for u in upstreams:
        if not UPSTREAM_ARG.match(u):
            errors.append(f"{where}: --upstream {u!r} is not NAME=URL[#model]")
    if value_of("--port") != str(DUET_PORT):
        errors.append(f"{where}: duet must listen on --port {DUET_PORT} (the Dockerfile's HEALTHCHECK and EXPOSE)")
    if value_of("--host") not in ("0.0.0.0", "::"):
        errors.append(f"{where}: duet must listen on --host 0.0.0.0 in a container")
    key = value_of("--api-key")
    if key is None:
        errors.append(f"{where}: a non-loopback duet needs --api-key")
    elif not re.match(r"^(\$\([A-Z_]+\)|\$\{[A-Z_]+(:\?[^}]*)?\})$", key):
        errors.append(f"{where}: --api-key must come from the environment or a secret, not be written here")
    else:
        name = re.sub(r"^\$[({]([A-Z_]+).*$", r"\1", key)
        if env_names is not None and name not in env_names:
            errors.append(f"{where}: --api-key uses ${name}, which the container's env does not define")


def check_kubernetes(errors, k8s_dir, docs_by_file=None):
    """docs_by_file: {file name: [documents]}; read from k8s_dir when None."""
    if docs_by_file is None:
        docs_by_file = {}
        for name in sorted(os.listdir(k8s_dir)):
            if name.endswith((".yaml", ".yml")):
                try:
                    docs_by_file[name] = load_yaml_documents(os.path.join(k8s_dir, name))
                except ValueError as e:
                    errors.append(str(e))
    objects = []  # (file, doc)
    for name, docs in docs_by_file.items():
        for doc in docs:
            if not isinstance(doc, dict):
                errors.append(f"{name}: a document that is not a mapping")
                continue
            objects.append((name, doc))
    secrets = {}
    for name, doc in objects:
        kind = doc.get("kind")
        where = f"{name}: {kind}/{get(doc, 'metadata.name', '?')}"
        if kind not in REQUIRED_BY_KIND:
            errors.append(f"{where}: unexpected kind {kind!r}")
            continue
        if doc.get("apiVersion") != API_VERSION_BY_KIND[kind]:
            errors.append(f"{where}: apiVersion {doc.get('apiVersion')!r}, expected {API_VERSION_BY_KIND[kind]!r}")
        if kind != "Kustomization" and not get(doc, "metadata.name"):
            errors.append(f"{where}: no metadata.name")
        for key in REQUIRED_BY_KIND[kind]:
            if get(doc, key) in (None, [], {}):
                errors.append(f"{where}: missing {key}")
        if kind == "Secret":
            secrets[get(doc, "metadata.name")] = set((doc.get("stringData") or {}) | (doc.get("data") or {}))

    workloads = {}  # (kind, name) -> template labels
    for name, doc in objects:
        kind = doc.get("kind")
        if kind not in ("Deployment", "StatefulSet"):
            continue
        obj = get(doc, "metadata.name")
        where = f"{name}: {kind}/{obj}"
        match = get(doc, "spec.selector.matchLabels", {}) or {}
        labels = get(doc, "spec.template.metadata.labels", {}) or {}
        if any(labels.get(k) != v for k, v in match.items()):
            errors.append(f"{where}: spec.selector.matchLabels {match} do not select the pod labels {labels}")
        workloads[(kind, obj)] = labels
        pod = get(doc, "spec.template.spec", {}) or {}
        env_names = None
        for c in pod.get("containers", []) or []:
            check_container(errors, f"{where} container {c.get('name')}", c, secrets)
            if c.get("name") == "duet":
                env_names = {e.get("name") for e in c.get("env", [])}
                check_duet_container(errors, f"{where} container duet", c, env_names)
                if not (get(pod, "securityContext.runAsNonRoot") or get(c, "securityContext.runAsNonRoot")):
                    errors.append(f"{where}: duet must run with runAsNonRoot: true")
        if obj == "vllm":
            gpus = [get(c, "resources.limits", {}).get("nvidia.com/gpu") for c in pod.get("containers", [])]
            if not any(gpus):
                errors.append(f"{where}: the vLLM upstream requests no nvidia.com/gpu")
        if kind == "StatefulSet" and not any(
                d.get("kind") == "Service" and get(d, "metadata.name") == get(doc, "spec.serviceName")
                for _, d in objects):
            errors.append(f"{where}: serviceName {get(doc, 'spec.serviceName')!r} names no Service")

    names = {(d.get("kind"), get(d, "metadata.name")) for _, d in objects}
    for required in (("Deployment", "duet"), ("Service", "duet"), ("Deployment", "vllm"), ("Service", "vllm"),
                     ("Service", "postgres"), ("HorizontalPodAutoscaler", "vllm")):
        if required not in names:
            errors.append(f"deploy/k8s: no {required[0]} named {required[1]!r}")

    for name, doc in objects:
        kind = doc.get("kind")
        where = f"{name}: {kind}/{get(doc, 'metadata.name')}"
        if kind == "Service":
            selector = get(doc, "spec.selector", {}) or {}
            if not any(all(labels.get(k) == v for k, v in selector.items()) for labels in workloads.values()):
                errors.append(f"{where}: selector {selector} matches no Deployment or StatefulSet in deploy/k8s")
        elif kind == "HorizontalPodAutoscaler":
            ref = get(doc, "spec.scaleTargetRef", {}) or {}
            if (ref.get("kind"), ref.get("name")) not in workloads:
                errors.append(f"{where}: scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not in deploy/k8s")
            metrics = [get(m, "pods.metric.name") or get(m, "external.metric.name") or get(m, "object.metric.name")
                       for m in get(doc, "spec.metrics", []) or []]
            if "vllm:num_requests_waiting" not in metrics:
                errors.append(f"{where}: does not scale on vllm:num_requests_waiting (metrics: {metrics})")
        elif kind == "Kustomization":
            for res in doc.get("resources", []):
                if res not in docs_by_file:
                    errors.append(f"{where}: resource {res!r} is not a file in deploy/k8s")


# ---- compose ----

def check_compose(errors, path, doc=None):
    name = os.path.basename(path)
    if doc is None:
        try:
            docs = load_yaml_documents(path)
        except ValueError as e:
            errors.append(str(e))
            return
        doc = docs[0] if docs else {}
    services = doc.get("services") or {}
    for required in ("duet", "postgres", "vllm"):
        if required not in services:
            errors.append(f"{name}: no service {required!r}")
    for svc_name, svc in services.items():
        if not (svc.get("image") or svc.get("build")):
            errors.append(f"{name}: service {svc_name} has neither image nor build")
        depends = svc.get("depends_on") or {}
        for dep in depends:
            if dep not in services:
                errors.append(f"{name}: service {svc_name} depends on unknown service {dep!r}")
    duet = services.get("duet") or {}
    if duet:
        args = [str(a) for a in duet.get("command") or []]
        env = duet.get("environment") or {}
        env_names = set(env) if isinstance(env, dict) else {e.split("=")[0] for e in env}
        check_duet_args(errors, f"{name}: service duet", args, None)
        if "PGPASSWORD" not in env_names:
            errors.append(f"{name}: service duet gets no PGPASSWORD for its --store")
        build = duet.get("build") or {}
        if build and not os.path.exists(os.path.join(os.path.dirname(path), build.get("context", "."),
                                                     build.get("dockerfile", "Dockerfile"))):
            errors.append(f"{name}: service duet builds from a Dockerfile that does not exist")
        for dep in ("postgres", "vllm"):
            if dep not in (duet.get("depends_on") or {}):
                errors.append(f"{name}: service duet does not depend on {dep}")
    vllm = services.get("vllm") or {}
    if vllm:
        devices = get(vllm, "deploy.resources.reservations.devices", []) or []
        if not any("gpu" in (d.get("capabilities") or []) for d in devices):
            errors.append(f"{name}: service vllm reserves no GPU")


# ---- Dockerfile ----

def dockerfile_instructions(text):
    """(line number, INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        word, _, rest = pending.partition(" ")
        out.append((start, word.upper(), rest.strip()))
        pending = ""
    return out


def check_dockerfile(errors, path, text=None):
    name = os.path.basename(path)
    if text is None:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    ins = dockerfile_instructions(text)
    froms = [(n, a) for n, i, a in ins if i == "FROM"]
    if len(froms) < 2:
        errors.append(f"{name}: not multi-stage (one FROM); build in one stage, copy the binary into a slim one")
    for n, a in froms:
        image = a.split()[0]
        if not re.match(r"^debian:(bookworm|12)([-.][\w.-]*)?$", image):
            errors.append(f"{name}:{n}: FROM {image}: every stage must be Debian 12 (debian:bookworm…)")
    last_from = froms[-1][0] if froms else 0
    final = [(n, i, a) for n, i, a in ins if n >= last_from]
    users = [a for _, i, a in final if i == "USER"]
    if not users:
        errors.append(f"{name}: the final stage has no USER (it would run as root)")
    elif users[-1].split(":")[0] in ("root", "0"):
        errors.append(f"{name}: the final stage runs as root (USER {users[-1]})")
    health = [a for _, i, a in final if i == "HEALTHCHECK"]
    if not health or "/health" not in health[-1]:
        errors.append(f"{name}: the final stage needs a HEALTHCHECK on /health")
    if not any(i == "COPY" and "--from=" in a for _, i, a in final):
        errors.append(f"{name}: the final stage copies nothing from the build stage (COPY --from=…)")
    if not any(i == "EXPOSE" and str(DUET_PORT) in a.split() for _, i, a in final):
        errors.append(f"{name}: the final stage does not EXPOSE {DUET_PORT}")
    for n, i, a in ins:
        if i == "RUN" and "apt-get install" in a:
            if "--no-install-recommends" not in a:
                errors.append(f"{name}:{n}: apt-get install without --no-install-recommends")
            if "rm -rf /var/lib/apt/lists" not in a:
                errors.append(f"{name}:{n}: apt-get install without removing /var/lib/apt/lists in the same RUN")
            if "apt-get update" not in a:
                errors.append(f"{name}:{n}: apt-get install without apt-get update in the same RUN")
        if i == "ADD" and re.search(r"https?://", a):
            errors.append(f"{name}:{n}: ADD of a URL (use a package or COPY)")


# ---- driver ----

def check_all(deploy_dir):
    errors = []
    check_dockerfile(errors, os.path.join(deploy_dir, "Dockerfile"))
    check_compose(errors, os.path.join(deploy_dir, "docker-compose.yml"))
    check_kubernetes(errors, os.path.join(deploy_dir, "k8s"))
    return errors


def self_test(deploy_dir):
    """Each break must be reported by the check that owns it, and the unbroken files must pass."""
    failures = []
    base = check_all(deploy_dir)
    if base:
        failures.append(f"the shipped files do not pass: {base}")
    with open(os.path.join(deploy_dir, "Dockerfile"), encoding="utf-8") as f:
        dockerfile = f.read()
    compose_path = os.path.join(deploy_dir, "docker-compose.yml")
    compose = load_yaml_documents(compose_path)[0]
    k8s_dir = os.path.join(deploy_dir, "k8s")
    k8s = {n: load_yaml_documents(os.path.join(k8s_dir, n)) for n in sorted(os.listdir(k8s_dir))
           if n.endswith(".yaml")}

    def expect(label, errors, fragment):
        if not any(fragment in e for e in errors):
            failures.append(f"{label}: expected an error containing {fragment!r}, got {errors}")

    def docker_case(label, old, new, fragment):
        if old not in dockerfile:
            failures.append(f"{label}: {old!r} is not in the Dockerfile")
            return
        errors = []
        check_dockerfile(errors, "Dockerfile", dockerfile.replace(old, new))
        expect(label, errors, fragment)

    docker_case("root user", "USER 10001:10001", "USER root", "runs as root")
    docker_case("no user", "USER 10001:10001\n", "", "has no USER")
    docker_case("ubuntu base", "FROM debian:bookworm-slim", "FROM ubuntu:22.04", "Debian 12")
    docker_case("no healthcheck", "HEALTHCHECK", "# HEALTHCHECK", "HEALTHCHECK on /health")
    docker_case("apt lists kept", " \\\n && rm -rf /var/lib/apt/lists/*", "", "/var/lib/apt/lists")
    errors = []
    check_dockerfile(errors, "Dockerfile", "FROM debian:bookworm\nUSER 1000\nHEALTHCHECK CMD curl /health\n")
    expect("single stage", errors, "not multi-stage")

    def k8s_case(label, fragment, edit):
        broken = copy.deepcopy(k8s)
        edit(broken)
        errors = []
        check_kubernetes(errors, k8s_dir, broken)
        expect(label, errors, fragment)

    def find(docs, kind, name):
        for file_docs in docs.values():
            for d in file_docs:
                if d.get("kind") == kind and get(d, "metadata.name") == name:
                    return d
        raise KeyError(f"{kind}/{name}")

    def duet_container(docs):
        return find(docs, "Deployment", "duet")["spec"]["template"]["spec"]["containers"][0]

    k8s_case("no readiness", "readinessProbe httpGet on /health", lambda d: duet_container(d).pop("readinessProbe"))
    k8s_case("readiness elsewhere", "readinessProbe httpGet on /health",
             lambda d: duet_container(d)["readinessProbe"]["httpGet"].update(path="/"))
    k8s_case("wrong probe port", "does not declare",
             lambda d: duet_container(d)["readinessProbe"]["httpGet"].update(port="metrics"))
    k8s_case("service selects nothing", "matches no Deployment",
             lambda d: find(d, "Service", "duet")["spec"]["selector"].update({"app.kubernetes.io/name": "dute"}))
    k8s_case("hpa metric", "vllm:num_requests_waiting",
             lambda d: find(d, "HorizontalPodAutoscaler", "vllm")["spec"]["metrics"][0]["pods"]["metric"].update(
                 name="cpu"))
    k8s_case("hpa target", "scaleTargetRef",
             lambda d: find(d, "HorizontalPodAutoscaler", "vllm")["spec"]["scaleTargetRef"].update(name="vllm2"))
    k8s_case("no gpu", "nvidia.com/gpu",
             lambda d: find(d, "Deployment", "vllm")["spec"]["template"]["spec"]["containers"][0]["resources"].update(
                 limits={}))
    k8s_case("bad upstream", "is not NAME=URL",
             lambda d: duet_container(d).update(args=[a.replace("expert=", "expert ") for a in duet_container(d)["args"]]))
    k8s_case("password in url", "carries a password",
             lambda d: duet_container(d).update(args=[a.replace("duet@postgres", "duet:pw@postgres")
                                                      for a in duet_container(d)["args"]]))
    k8s_case("missing apiVersion", "apiVersion", lambda d: find(d, "Service", "vllm").pop("apiVersion"))
    k8s_case("no postgres service", "no Service named 'postgres'",
             lambda d: d.update({"postgres.yaml": [x for x in d["postgres.yaml"] if x.get("kind") != "Service"]}))
    k8s_case("selector mismatch", "do not select",
             lambda d: find(d, "Deployment", "vllm")["spec"]["selector"]["matchLabels"].update(extra="x"))

    def compose_case(label, fragment, edit):
        broken = copy.deepcopy(compose)
        edit(broken)
        errors = []
        check_compose(errors, compose_path, broken)
        expect(label, errors, fragment)

    compose_case("no gpu", "reserves no GPU", lambda c: c["services"]["vllm"].pop("deploy"))
    compose_case("no postgres", "no service 'postgres'", lambda c: c["services"].pop("postgres"))
    compose_case("sqlite store", "--store postgres://",
                 lambda c: c["services"]["duet"].update(command=[a for a in c["services"]["duet"]["command"]
                                                                 if not str(a).startswith("postgres://")]))
    compose_case("literal api key", "--api-key must come from",
                 lambda c: c["services"]["duet"].update(command=[("hunter2" if str(a).startswith("${DUET_API_KEY")
                                                                  else a) for a in c["services"]["duet"]["command"]]))
    try:
        load_yaml_documents_from_text("a: [1, 2\n")
        failures.append("broken YAML: parsed without error")
    except ValueError as e:
        if "line" not in str(e):
            failures.append(f"broken YAML: the error names no line: {e}")
    return failures


def load_yaml_documents_from_text(text):
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        return load_yaml_documents(f.name)
    finally:
        os.unlink(f.name)


def main(argv):
    if len(argv) == 3 and argv[1] == "--self-test":
        failures = self_test(argv[2])
        for f in failures:
            print(f"self-test: {f}", file=sys.stderr)
        print(f"check_deploy.py self-test: {'FAILED' if failures else 'ok'}")
        return 1 if failures else 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    errors = check_all(argv[1])
    for e in errors:
        print(e, file=sys.stderr)
    print(f"check_deploy.py: {len(errors)} problem(s) in {argv[1]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
