# bash completion for urun(1): commands, global options, per-command options
# and container ids. Install as /usr/share/bash-completion/completions/urun
# or source it from ~/.bashrc.

# The global options that take a value in the next word.
_urun_global_args='--root --log --log-format --log-level --cgroup-manager'

# Print the --root given on the command line, if any, as an argument list
# for urun.
_urun_root_arg() {
  local i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case ${COMP_WORDS[i]} in
      --root) printf -- '--root\n%s\n' "${COMP_WORDS[i + 1]}"; return ;;
      --root=*) printf -- '%s\n' "${COMP_WORDS[i]}"; return ;;
    esac
  done
}

_urun_containers() {
  local -a root
  mapfile -t root < <(_urun_root_arg)
  urun "${root[@]}" list --quiet 2>/dev/null
}

_urun() {
  local cur prev cmd i word
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}

  local commands='check create delete exec features kill list pause ps restore resume run spec start state update checkpoint'
  local globals='--debug --log --log-format --log-level --no-pivot --root --systemd-cgroup --cgroup-manager --help --version'

  # The command is the first word that is neither an option nor an option's value.
  cmd=
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in
      -*) ;;
      *)
        if [[ " $_urun_global_args " == *" ${COMP_WORDS[i - 1]} "* ]] && ((i > 1)); then
          continue
        fi
        cmd=$word
        break
        ;;
    esac
  done

  # Values of options.
  case $prev in
    --root | --bundle | -b | --image-path | --work-path | --cwd)
      mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --log)
      mapfile -t COMPREPLY < <(compgen -W 'file: journald: syslog:' -- "$cur")
      compopt -o nospace 2>/dev/null
      return ;;
    --log-format) mapfile -t COMPREPLY < <(compgen -W 'text json' -- "$cur"); return ;;
    --log-level) mapfile -t COMPREPLY < <(compgen -W 'debug warning error' -- "$cur"); return ;;
    --cgroup-manager) mapfile -t COMPREPLY < <(compgen -W 'cgroupfs systemd disabled' -- "$cur"); return ;;
    --format)
      if [ "$cmd" = check ]; then
        mapfile -t COMPREPLY < <(compgen -W 'text json' -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W 'table json' -- "$cur")
      fi
      return ;;
    --manage-cgroups-mode)
      mapfile -t COMPREPLY < <(compgen -W 'soft ignore full strict' -- "$cur"); return ;;
    --config | -f | --pid-file | --console-socket | --process | --resources | -r)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --preserve-fds | --regex | --env | --cap | --user | -u | --cgroup | --apparmor | \
      --process-label | --parent-path | --lsm-profile | --lsm-mount-context | \
      --blkio-weight | --cpu-period | --cpu-quota | --cpu-rt-period | --cpu-rt-runtime | \
      --cpu-share | --cpuset-cpus | --cpuset-mems | --kernel-memory | --kernel-memory-tcp | \
      --memory | --memory-reservation | --memory-swap | --pids-limit)
      return ;;
  esac

  if [ -z "$cmd" ]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$globals" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
    fi
    return
  fi

  local opts=
  case $cmd in
    create) opts='--bundle --config --console-socket --no-new-keyring --preserve-fds --pid-file --no-pivot' ;;
    run) opts='--bundle --config --console-socket --no-new-keyring --preserve-fds --pid-file --no-pivot --detach' ;;
    delete | rm) opts='--force --regex' ;;
    exec) opts='--apparmor --console-socket --cwd --cap --detach --cgroup --env --no-new-privs --preserve-fds --process --process-label --pid-file --tty --user' ;;
    list | ls) opts='--quiet --format' ;;
    kill) opts='--all --regex' ;;
    ps | check) opts='--format' ;;
    spec) opts='--bundle --rootless' ;;
    update) opts='--blkio-weight --cpu-period --cpu-quota --cpu-rt-period --cpu-rt-runtime --cpu-share --cpuset-cpus --cpuset-mems --kernel-memory --kernel-memory-tcp --memory --memory-reservation --memory-swap --pids-limit --resources' ;;
    checkpoint) opts='--image-path --work-path --leave-running --tcp-established --ext-unix-sk --shell-job --file-locks --pre-dump --parent-path --manage-cgroups-mode' ;;
    restore) opts='--bundle --config --image-path --work-path --tcp-established --tcp-close --ext-unix --shell-job --file-locks --detach --pid-file --console-socket --manage-cgroups-mode --lsm-profile --lsm-mount-context' ;;
  esac
  opts="$opts --help"

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    return
  fi

  # Positional arguments: a container id for the commands that take one (the
  # second positional of kill is a signal).
  case $cmd in
    create | run | spec | list | ls | features | check) return ;;
    kill)
      local npos=0
      for ((i = i + 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == -* ]] || ((npos++))
      done
      if ((npos >= 1)); then
        mapfile -t COMPREPLY < <(compgen -W 'TERM KILL HUP INT QUIT USR1 USR2 STOP CONT TSTP WINCH' -- "$cur")
        return
      fi
      ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$(_urun_containers)" -- "$cur")
}

complete -F _urun urun
