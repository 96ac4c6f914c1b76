#!/bin/sh
# The agent container's start: on the first start, `rounds-agent init` makes the config, token and
# certificate in the volume and writes the enrolment string to a file only this user can read
# (and, when ROUNDS_ENROLMENT_FILE names one, to that file too, for a collector to pick up);
# then the agent serves.
#   ROUNDS_AGENT_CONFIG     config file (default /var/lib/rounds/agent.yaml)
#   ROUNDS_AGENT_ADVERTISE  host:port the collector dials (default: this container's host name, port 7443)
#   ROUNDS_ENROLMENT_FILE   also write the enrolment string here (a volume shared with the collector)
set -eu
config="${ROUNDS_AGENT_CONFIG:-/var/lib/rounds/agent.yaml}"
state="$(dirname "${config}")"
if [ ! -f "${config}" ]; then
  umask 077
  rounds-agent init --config "${config}" --listen 0.0.0.0:7443 \
    --advertise "${ROUNDS_AGENT_ADVERTISE:-$(hostname):7443}" > "${state}/enrolment.txt"
  # Everything but the last line (which holds the token) is safe to show in the log.
  sed '$d' "${state}/enrolment.txt"
  echo "enrolment string written to ${state}/enrolment.txt"
  if [ -n "${ROUNDS_ENROLMENT_FILE:-}" ]; then
    tail -n 1 "${state}/enrolment.txt" > "${ROUNDS_ENROLMENT_FILE}.tmp"
    mv "${ROUNDS_ENROLMENT_FILE}.tmp" "${ROUNDS_ENROLMENT_FILE}"
  fi
fi
exec rounds-agent start --config "${config}"
