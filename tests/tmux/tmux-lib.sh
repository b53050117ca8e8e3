# tests/tmux/tmux-lib.sh: drive detbench in a real terminal (sourced by the
# tests in this folder). tmux runs the program on a private server socket
# with a throw-away HOME; send-keys types, capture-pane reads the screen.
# Every wait polls the screen (up to TT_TIMEOUT seconds), never sleeps
# blindly, so the tests hold on a loaded machine.
. "$top_srcdir/tests/lib.sh"

[ -n "$TMUX_BIN" ] || skip_all "tmux is not installed (apt-get install tmux)"
[ -x "$DETBENCH" ] || skip_all "detbench is not built"
unset TMUX TMUX_PANE
TT_TIMEOUT=${TT_TIMEOUT:-10}
TT_TERM=${TT_TERM:-screen-256color}
TT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/detbench-tmux.XXXXXX")
TT_BASE="detbench-test-$$-$(basename "$0" .sh)"
TT_N=0
TT_SOCK="$TT_BASE-0"
mkdir -p "$TT_TMP/home" "$TT_TMP/state"
# the servers' sockets live in the temporary directory too, and go with it
TMUX_TMPDIR=$TT_TMP
export TMUX_TMPDIR

tt() { "$TMUX_BIN" -L "$TT_SOCK" -f /dev/null "$@"; }
tt_cleanup() {
	_i=0
	while [ $_i -le $TT_N ]; do
		"$TMUX_BIN" -L "$TT_BASE-$_i" -f /dev/null kill-server >/dev/null 2>&1
		_i=$((_i + 1))
	done
	# a killed detbench may still be saving its history
	rm -rf "$TT_TMP" 2>/dev/null || { sleep 1; rm -rf "$TT_TMP"; }
}
trap tt_cleanup EXIT
trap 'exit 1' INT TERM HUP

# The environment detbench runs in: private HOME and state, a UTF-8 locale.
tt_env() {
	echo "env HOME=$TT_TMP/home XDG_STATE_HOME=$TT_TMP/state TERM=$TT_TERM LC_ALL=C.UTF-8 $*"
}

# Each start gets a new server (socket), so it never races the old one's exit.
tt_new_server() {
	tt kill-server >/dev/null 2>&1
	TT_N=$((TT_N + 1))
	TT_SOCK="$TT_BASE-$TT_N"
}

# tt_start COLS ROWS [VAR=value...]: a fresh server running detbench; when
# detbench ends the pane prints "EXITED rc=N" and stays.
tt_start() {
	cols=$1 rows=$2
	shift 2
	tt_new_server
	tt new-session -d -x "$cols" -y "$rows" \
		"$(tt_env "$@") '$DETBENCH'; echo EXITED rc=\$?; sleep 600"
	tt_wait '^> ?$' || tt_diag "detbench did not show its prompt"
}

# tt_shell COLS ROWS: a fresh server running sh (for tests that look at the
# terminal before and after detbench).
tt_shell() {
	tt_new_server
	tt new-session -d -x "$1" -y "$2" "$(tt_env) PS1='$ ' sh"
	tt_wait '^\$'
}

# (capture-pane drops trailing blanks: an empty prompt reads ">")
tt_screen() { tt capture-pane -p "$@" 2>/dev/null; }
tt_last() { tt_screen | tail -n 1; }
tt_type() { tt send-keys -l -- "$1"; }
tt_key() { tt send-keys "$@"; }

# tt_wait ERE [timeout]: waits until a line of the screen matches.
tt_wait() {
	_limit=$(( $(date +%s) + ${2:-$TT_TIMEOUT} ))
	while :; do
		tt_screen | grep -Eq -- "$1" && return 0
		[ "$(date +%s)" -ge "$_limit" ] && return 1
		sleep 0.1
	done
}

# tt_wait_not ERE [timeout]: waits until no line matches.
tt_wait_not() {
	_limit=$(( $(date +%s) + ${2:-$TT_TIMEOUT} ))
	while :; do
		tt_screen | grep -Eq -- "$1" || return 0
		[ "$(date +%s)" -ge "$_limit" ] && return 1
		sleep 0.1
	done
}

# tt_wait_last ERE: waits until the last line of the screen matches.
tt_wait_last() {
	_limit=$(( $(date +%s) + ${2:-$TT_TIMEOUT} ))
	while :; do
		tt_last | grep -Eq -- "$1" && return 0
		[ "$(date +%s)" -ge "$_limit" ] && return 1
		sleep 0.1
	done
}

# Shows the screen in the TAP log after a failure.
tt_diag() {
	echo "# $1; the screen:"
	tt_screen | sed 's/^/#   |/'
}

# tt_check DESCRIPTION ERE: one test point: the screen shows ERE.
tt_check() {
	if tt_wait "$2"; then ok 0 "$1"; else ok 1 "$1"; tt_diag "expected /$2/"; fi
}

# tt_wait_text TEXT [timeout]: waits until the screen shows TEXT (fixed string).
tt_wait_text() {
	_limit=$(( $(date +%s) + ${2:-$TT_TIMEOUT} ))
	while :; do
		tt_screen | grep -Fq -- "$1" && return 0
		[ "$(date +%s)" -ge "$_limit" ] && return 1
		sleep 0.1
	done
}

# Runs a line at the prompt: waits for it to be echoed into the output
# (so it was taken, not just typed) and for the prompt to be back.
tt_run() {
	tt_type "$1"
	tt_key Enter
	tt_wait_text "> $(printf '%.40s' "$1")" || tt_diag "the line was not taken: $1"
	tt_wait_last '^> ?$' || tt_diag "the prompt did not come back after: $1"
}
