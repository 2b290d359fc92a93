# Writes OUTPUT (NAME.1.gz): the man page of PROGRAM made by help2man from
# its --help and --version, with WHATIS as its one-line summary (VERSION,
# the project's, stands in for a program without --version),
# and a SEE ALSO section naming the other programs of SEE_ALSO and the docs
# in DOC_DIR. A program with subcommands (scorepipe) also gets a COMMANDS
# section holding each subcommand's --help, nested ones (scorepipe model
# list) included. Compressed with GZIP -9n, as Debian policy wants. Run at
# build time (add_custom_command in packaging/CMakeLists.txt).
get_filename_component(bin_dir "${PROGRAM}" DIRECTORY)
get_filename_component(name "${PROGRAM}" NAME)
get_filename_component(out_dir "${OUTPUT}" DIRECTORY)
string(REGEX REPLACE "\\.gz$" "" page "${OUTPUT}")
file(MAKE_DIRECTORY "${out_dir}")

# `name args... --help`, run by its name through PATH so that its usage line
# says `scorepipe up`, not the build tree's path.
function(help_of out)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env "PATH=${bin_dir}:$ENV{PATH}" ${name} ${ARGN} --help
                  OUTPUT_VARIABLE text RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    string(REPLACE ";" " " command "${name};${ARGN}")
    message(FATAL_ERROR "${command} --help exited with ${code}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The names listed under "Subcommands:" in a CLI11 help text.
function(subcommands_of out text)
  set(names "")
  string(REPLACE ";" "\\;" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(inside FALSE)
  foreach(line IN LISTS lines)
    if(line STREQUAL "Subcommands:")
      set(inside TRUE)
    elseif(inside AND line MATCHES "^  ([a-z][a-z0-9-]*)( |$)")
      list(APPEND names ${CMAKE_MATCH_1})
    elseif(inside AND NOT line MATCHES "^ ")
      break()
    endif()
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

# Text shown as it is (.nf): backslashes and leading dots escaped, hyphens
# as minus signs so that options copy and paste.
function(roff_verbatim out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(include "")
help_of(top)
subcommands_of(commands "${top}")
if(commands)
  string(APPEND include "[COMMANDS]\nEach subcommand's own \\fB\\-\\-help\\fR:\n")
  foreach(command IN LISTS commands)
    help_of(help ${command})
    roff_verbatim(shown "${help}")
    string(APPEND include ".SS \"${name} ${command}\"\n.nf\n${shown}.fi\n")
    subcommands_of(nested "${help}")
    foreach(sub IN LISTS nested)
      help_of(help ${command} ${sub})
      roff_verbatim(shown "${help}")
      string(APPEND include ".SS \"${name} ${command} ${sub}\"\n.nf\n${shown}.fi\n")
    endforeach()
  endforeach()
endif()

string(APPEND include "[SEE ALSO]\n")
list(REMOVE_ITEM SEE_ALSO ${name})
foreach(other IN LISTS SEE_ALSO)
  string(REPLACE "-" "\\-" other "${other}")
  string(APPEND include ".BR ${other} (1),\n")
endforeach()
string(APPEND include
       ".BR systemctl (1).\n.PP\n"
       "The documentation in \\fI${DOC_DIR}/\\fR: \\fIREADME.md\\fR (an overview), "
       "\\fIdocs/operations.md\\fR (running a cluster under systemd, its metrics and alerts), "
       "\\fIdocs/configuration.md\\fR (every topology key) and \\fIdocs/models.md\\fR (the model registry).\n")
file(WRITE "${page}.include" "${include}")

# The version: what the program's --version prints, when it has one that
# names this version; else VERSION (the project's).
execute_process(COMMAND ${PROGRAM} --version OUTPUT_VARIABLE version_text RESULT_VARIABLE code ERROR_QUIET)
string(REPLACE "." "\\." version_pattern "${VERSION}")
if(code EQUAL 0 AND version_text MATCHES "(^|[^0-9.])${version_pattern}([^0-9.]|$)")
  set(version_option "")
else()
  set(version_option --version-string=${VERSION})
endif()
execute_process(COMMAND ${HELP2MAN} --no-info --name=${WHATIS} ${version_option}
                        --include=${page}.include --output=${page} ${PROGRAM}
                RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "help2man ${PROGRAM} exited with ${code}")
endif()
execute_process(COMMAND ${GZIP} -9nf ${page} RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "gzip ${page} exited with ${code}")
endif()
