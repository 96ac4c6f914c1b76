#!/bin/sh
# The collector container's start. When ROUNDS_ENROLMENT_FILE names a file holding an agent's
# enrolment string (the compose file shares one with the agent container) and no agent of that
# name is enrolled yet, it enrols it as ROUNDS_ENROL_NAME (default "agent") before starting.
# On the very first start the collector prints the admin's one-time password: `docker compose logs collector`.
set -eu
name="${ROUNDS_ENROL_NAME:-agent}"
if [ -n "${ROUNDS_ENROLMENT_FILE:-}" ]; then
  i=0
  while [ ! -s "${ROUNDS_ENROLMENT_FILE}" ] && [ "${i}" -lt 60 ]; do i=$((i + 1)); sleep 1; done
  if [ ! -s "${ROUNDS_ENROLMENT_FILE}" ]; then
    echo "no enrolment string in ${ROUNDS_ENROLMENT_FILE} after 60 s — is the agent container running? Starting without it." >&2
  elif ! rounds-collector agent list | grep -q " ${name} "; then
    rounds-collector agent add --name "${name}" --enrol "$(cat "${ROUNDS_ENROLMENT_FILE}")"
  fi
fi
exec rounds-collector start
