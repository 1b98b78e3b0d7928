# Shared by run.sh and fleet.sh (sourced).

# wait_port PORT: until something listens on 127.0.0.1:PORT (at most 10 s).
wait_port() {
    i=0
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -lt 100 ] || { echo "nothing listens on $1"; exit 1; }
        sleep 0.1
    done
}
