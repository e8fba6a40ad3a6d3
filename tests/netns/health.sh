#!/bin/bash
# tests/netns/health.sh: health checks through the real path, drain and
# undrain, table backups, and states that survive a reload. One client,
# one front, three backs with their servers (lib.sh). The front checks b1
# by TCP to port 80 of IPv4 IP_S (front.health's defaults), b2 by ICMPv6
# echo to IPv6 IP_S and b3 by an HTTP GET of /health on port 8080.
# MSLB_FRONT_MODE=encapsulate: the same through tunnels (health-encap.sh). Table: c1's IPv4 prefix -> b1 with
# backup b3, c1's IPv6 prefix -> b1; unmatched = "hash".
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

lib_init
require_netns tun
require_cmd ip jq socat ping ss timeout
require_mslbd

topo_create 1 3 mslb || bail "topology"
for i in 1 2 3; do
	srv_start_names "$i" || bail "name service on s$i"
done
# A minimal HTTP server (socat; Python's http.server looks up its own name
# first, which waits for DNS here): 200 while $TMPD/health exists, else 404.
echo healthy >"$TMPD/health" || bail "health file"
cat >"$TMPD/http.sh" <<EOF || bail "http.sh"
#!/bin/sh
read -r line
if [ -f "$TMPD/health" ]; then printf 'HTTP/1.0 200 OK\r\n\r\nok\n'; else printf 'HTTP/1.0 404 Not Found\r\n\r\n'; fi
# socat may drop the output of a child that exits at once.
sleep 0.2
EOF
chmod +x "$TMPD/http.sh"
bg_start http-s3 s3 socat "TCP4-LISTEN:8080,bind=$IPS4,reuseaddr,fork" "EXEC:$TMPD/http.sh"
wait_for 10 listening s3 tcp 8080 || bail "HTTP server on s3"

# front_health_conf FILE [B2_STATE]: the front with checks (see above).
front_health_conf() {
	local b2_state=${2:-up}
	{
		_conf_head f
		cat <<EOF
front = {
  services = [ "$IPS4", "$IPS6" ];
  mode = "${MSLB_FRONT_MODE:-translate}";
  health = { kind = "tcp"; port = 80; };
  next_hops = (
    { name = "b1"; ipv4 = "${IPB4[1]}"; ipv6 = "${IPB6[1]}"; },
    { name = "b2"; ipv4 = "${IPB4[2]}"; ipv6 = "${IPB6[2]}"; state = "$b2_state";
      check = { kind = "icmp"; service = "$IPS6"; }; },
    { name = "b3"; ipv4 = "${IPB4[3]}"; ipv6 = "${IPB6[3]}";
      check = { kind = "http"; port = 8080; http_path = "/health"; }; }
  );
  table = (
    { source = "${C4_TBL[1]}"; next_hop = "b1"; backup = "b3"; },
    { source = "${C6_TBL[1]}"; next_hop = "b1"; }
  );
  unmatched = "hash";
};
EOF
	} >"$1"
}

conf=$(mslbd_conf f)
front_health_conf "$conf"
out=$(mslbd_cli f check -c "$conf" 2>&1)
check_rc "front config with health checks is valid" 0 $? "$out"
# The backs first: the front's first probes go out at once.
for i in 1 2 3; do
	back_conf "$(mslbd_conf "b$i")" "$i" || bail "b$i config"
	mslbd_start "b$i" "$(mslbd_conf "b$i")" || bail "b$i"
done
mslbd_start f "$conf" || bail "front"

# nh NODE NAME FILTER: FILTER applied to next hop NAME of NODE's status.
nh() { jget "$1" ".front.next_hops[] | select(.name == \"$2\") | $3"; }
# shellcheck disable=SC2317 # called through wait_for and check
state_is() { [ "$(nh f "$1" .state)" = "$2" ]; }
# shellcheck disable=SC2317
ok_probes() { [ "$(nh f "$1" '.check | select(.last == "ok") | .in_a_row')" -ge "$2" ]; }
log_count() { grep -c "$1" "$TMPD/mslbd-f.log"; }

# ------------------------------------------------------------ all up
for n in b1 b2 b3; do
	check "$n: 2 probes in a row answered" wait_for 10 ok_probes "$n" 2
done
js=$(status_json f)
check_eq "kinds of check" "tcp icmp http" "$(jq -r '[.front.next_hops[].check.kind] | join(" ")' <<<"$js")"
check_eq "states" "up up up" "$(jq -r '[.front.next_hops[].state] | join(" ")' <<<"$js")"
check_eq "no failures" 0 "$(jq '[.front.next_hops[].check.failures] | add' <<<"$js")"
check "latency measured (b1, tcp)" test "$(jq '.front.next_hops[0].check.latency_us' <<<"$js")" -gt 0
for i in 1 2 3; do
	check "front: probe packets steered to b$i" test "$(nh f "b$i" .check.probe_packets)" -gt 0
	# No client sent anything yet: what b_i delivered is its probes.
	check "b$i delivered the probes to its server" \
		test "$(jget "b$i" '[.back.addresses[].packets] | add')" -gt 0
done
check_eq "front: the backup is in the table's status" b3 "$(jget f '.front.table[0].backup')"
out=$(mslbd_cli f status -s "$(mslbd_sock f)")
check_match "status text shows the check" "kind +http" "$out"
check_eq "c1 v4 -> s1" s1 "$(fetch_name c1 "$IPS4")"
check_eq "c1 v6 -> s1" s1 "$(fetch_name c1 "$IPS6")"

# ------------------------------------------------------------ a server dies
# TCP check with defaults (1 s interval, 0.5 s timeout, fall 2): the name
# service on s1 stops; b1 must be down in under 3 s.
t0=$(now_ms)
bg_stop name4-s1
bg_stop name6-s1
WAIT_STEP=0.05 wait_for 10 state_is b1 down
t1=$(now_ms)
diag "detection of a stopped server (tcp check, defaults): $((t1 - t0)) ms"
check "b1 down in under 3 s (took $((t1 - t0)) ms)" test $((t1 - t0)) -lt 3000
check_eq "b1: last probe refused" refused "$(nh f b1 .check.last)"
check_eq "b1: down logged once" 1 "$(log_count 'next hop b1: down')"
check_eq "c1 v4 -> b1's backup b3 -> s3" s3 "$(fetch_name c1 "$IPS4")"
check "table entry counts the fallback" test "$(jget f '.front.table[0].fallbacks')" -gt 0
name=$(fetch_name c1 "$IPS6")
check_match "c1 v6 (no backup) -> unmatched hash over b2, b3 ($name)" '^s[23]$' "$name"
srv_start_names 1 || bail "name service on s1 again"
check "b1 up again (rise 2)" wait_for 10 state_is b1 up
check_eq "b1: up logged once" 1 "$(log_count 'next hop b1: up')"
check_eq "c1 v4 -> s1 again" s1 "$(fetch_name c1 "$IPS4")"

# ------------------------------------------------------------ HTTP status
rm -f "$TMPD/health"
check "b3 down when /health answers 404" wait_for 10 state_is b3 down
check_eq "b3: last probe says the status" "http 404" "$(nh f b3 .check.last)"
echo healthy >"$TMPD/health"
check "b3 up when /health answers 200 again" wait_for 10 state_is b3 up

# ------------------------------------------------------------ a back dies
# ICMPv6 through b2: without mslbd on b2, nothing answers the echo to IP_S.
mslbd_stop b2
check "b2 down when its back stops (icmp)" wait_for 10 state_is b2 down
check_match "b2: last probe failed" '^(timeout|unreachable)' "$(nh f b2 .check.last)"
mslbd_start b2 "$(mslbd_conf b2)" || bail "b2 again"
check "b2 up when its back runs again" wait_for 10 state_is b2 up

# ------------------------------------------------------------ drain
out=$(mslbd_cli f drain b1 -s "$(mslbd_sock f)" 2>&1)
check_rc "mslbd drain b1 exits 0" 0 $? "$out"
check_eq "b1 drained" drain "$(nh f b1 .state)"
check_eq "drained b1: c1 v4 -> backup b3 -> s3" s3 "$(fetch_name c1 "$IPS4")"
p0=$(nh f b1 .check.probes)
out=$(mslbd_cli f reload -s "$(mslbd_sock f)" 2>&1)
check_rc "front reload exits 0" 0 $? "$out"
check_eq "the drain survives a reload" drain "$(nh f b1 .state)"
check "... and so does b1's health record ($p0 probes before)" test "$(nh f b1 .check.probes)" -ge "$p0"
out=$(mslbd_cli f undrain b1 -s "$(mslbd_sock f)" 2>&1)
check_rc "mslbd undrain b1 exits 0" 0 $? "$out"
check_eq "c1 v4 -> s1 after undrain" s1 "$(fetch_name c1 "$IPS4")"
out=$(mslbd_cli f drain nosuch -s "$(mslbd_sock f)" 2>&1)
check_rc "drain of an unknown next hop exits 2" 2 $? "$out"
check_match "... and says so" 'no next hop is called "nosuch"' "$out"
out=$(mslbd_cli f drain 2>&1)
check_rc "drain without a name exits 2" 2 $? "$out"
check_match "... with usage" 'usage' "$out"

# The file's state: b2 drained by the file, then undrained by editing it.
front_health_conf "$conf" drain
mslbd_cli f reload -s "$(mslbd_sock f)" >/dev/null 2>&1
check_eq "state = \"drain\" in the file drains b2" drain "$(nh f b2 .state)"
front_health_conf "$conf" up
mslbd_cli f reload -s "$(mslbd_sock f)" >/dev/null 2>&1
check_eq "the file's changed state wins over the drain" up "$(nh f b2 .state)"

# Everything drained: nothing can take new flows; dropped and counted.
for n in b1 b2 b3; do mslbd_cli f drain "$n" -s "$(mslbd_sock f)" >/dev/null; done
snap f before
out=$(fetch_name c1 "$IPS6")
check_eq "all drained: no server answers" "" "$out"
snap f after
check "all drained: dropped as next_hop_down" test "$(delta f '.drops.next_hop_down')" -gt 0
for n in b1 b2 b3; do mslbd_cli f undrain "$n" -s "$(mslbd_sock f)" >/dev/null; done
check_eq "undrained: c1 v6 -> s1" s1 "$(fetch_name c1 "$IPS6")"

# ------------------------------------------------------------ bad config
bad="$TMPD/bad.conf"
sed 's/kind = "tcp"; port = 80;/kind = "ping"; port = 80;/' "$conf" >"$bad"
out=$(mslbd_cli f check -c "$bad" 2>&1)
check_rc "a bad check kind is refused" 2 $? "$out"
check_match "... as FILE:LINE: key: problem (allowed ...)" \
	"^${bad//./\\.}:[0-9]+: front\.health\.kind: \"ping\" is not a kind of check \(allowed: " "$out"
sed 's/check = { kind = "icmp";/check = { kind = "icmp"; timeout = 5;/' "$conf" >"$bad"
out=$(mslbd_cli f check -c "$bad" 2>&1)
check_rc "a timeout longer than the interval is refused" 2 $? "$out"
check_match "... and says why" "timeout 5 s is longer than interval 1 s" "$out"

# ------------------------------------------------------------ exit
check_eq "front: no drops but the drained ones" 0 \
	"$(jget f '[.drops | to_entries[] | select(.key != "next_hop_down") | .value] | add')"
for n in f b1 b2 b3; do
	mslbd_stop "$n"
	check_rc "$n: mslbd exits 0 on SIGTERM" 0 $? "$(tail -n 5 "$TMPD/mslbd-$n.log")"
done

tap_done
