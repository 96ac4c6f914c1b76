#!/bin/sh
# The collector container's start. When ROUNDS_ENROLMENT_FILE names a file holding an agent's
# enrolment string (the compose file shares one with the agent container) and no agent of that
# name is enrolled yet, it enrols it as ROUNDS_ENROL_NAME (default "agent") once the collector
# answers: `rounds-collector agent add` talks to the running collector's API, reaching it through
# the cli-credentials.json the collector writes in its data folder at start.
# On the very first start the collector prints the admin's one-time password: `docker compose logs collector`.
set -eu
if [ -z "${ROUNDS_ENROLMENT_FILE:-}" ]; then exec rounds-collector start; fi
name="${ROUNDS_ENROL_NAME:-agent}"
# A token from the environment is not written to the credentials file: the commands take it from here.
if [ -n "${ROUNDS_API_TOKEN:-}" ] && [ -z "${ROUNDS_TOKEN:-}" ]; then export ROUNDS_TOKEN="${ROUNDS_API_TOKEN}"; fi

rounds-collector start &
collector=$!
# This shell is the container's first process: a stop reaches the collector through it.
trap 'kill -TERM "${collector}" 2>/dev/null || true' TERM INT

enrol() {
  i=0
  while [ ! -s "${ROUNDS_ENROLMENT_FILE}" ] && [ "${i}" -lt 60 ]; do i=$((i + 1)); sleep 1; done
  if [ ! -s "${ROUNDS_ENROLMENT_FILE}" ]; then
    echo "no enrolment string in ${ROUNDS_ENROLMENT_FILE} after 60 s — is the agent container running? Running without it." >&2
    return 0
  fi
  i=0
  until agents=$(rounds-collector agent list --output json 2>/dev/null); do
    kill -0 "${collector}" 2>/dev/null || return 0
    i=$((i + 1))
    if [ "${i}" -ge 120 ]; then
      echo "the collector did not answer its API within 120 s: agent \"${name}\" not enrolled (rounds-collector agent add does it by hand)" >&2
      return 0
    fi
    sleep 1
  done
  if printf '%s' "${agents}" | grep -q "\"name\": \"${name}\""; then
    echo "agent \"${name}\" is enrolled already"
  else
    rounds-collector agent add --name "${name}" --enrol "$(cat "${ROUNDS_ENROLMENT_FILE}")" || true
  fi
}
enrol

# `wait` returns early when a trapped signal arrives; wait again for the collector's own exit status.
status=0
wait "${collector}" || status=$?
while kill -0 "${collector}" 2>/dev/null; do
  status=0
  wait "${collector}" || status=$?
done
exit "${status}"
