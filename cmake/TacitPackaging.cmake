# Debian packages through CPack (scripts/package; docs/collector.md,
# "Packages"). Two packages, one per side, neither with maintainer scripts:
#   tacit-client       tacit-client, tacit-collector, tacit-shell-event, the
#                      systemd user units, the owner's docs
#   tacit-coordinator  tacit-coordinator, its systemd system unit and
#                      sysusers.d entry, the operator's docs
# Nothing is setuid and nothing is started by installing: the owner runs
# `systemctl --user enable --now ...`, the operator `systemctl enable`.
# Dependencies come from dpkg-shlibdeps on the binaries (LibTorch, gRPC,
# SQLCipher... as the Debian packages that provide them; nothing bundled).

include(GNUInstallDirs)

install(TARGETS tacit-client tacit-shell-event RUNTIME DESTINATION bin COMPONENT client)
if(TARGET tacit-collector)
  install(TARGETS tacit-collector RUNTIME DESTINATION bin COMPONENT client)
endif()

# The user units the package ships, written by the real install-service
# (one source for their text: client/runtime/user_units.cc), for programs in
# /usr/bin and every user's ~/.local/share/tacit.
set(tacit_user_units "${CMAKE_BINARY_DIR}/packaging/user-units")
set(tacit_user_unit_files "${tacit_user_units}/tacit-daemon.service")
set(tacit_unit_deps tacit-client)
if(TARGET tacit-collector)
  list(APPEND tacit_user_unit_files "${tacit_user_units}/tacit-collector.service")
  list(APPEND tacit_unit_deps tacit-collector)
endif()
add_custom_command(
  OUTPUT ${tacit_user_unit_files}
  COMMAND $<TARGET_FILE:tacit-client> install-service --for-package /usr/bin
          --unit-dir "${tacit_user_units}"
  DEPENDS ${tacit_unit_deps}
  COMMENT "Writing the packaged systemd user units")
add_custom_target(tacit_packaged_user_units ALL DEPENDS ${tacit_user_unit_files})
install(FILES ${tacit_user_unit_files} DESTINATION lib/systemd/user COMPONENT client)
install(FILES README.md docs/collector.md docs/data.md docs/federation.md docs/threat_model.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/tacit-client COMPONENT client)

install(TARGETS tacit-coordinator RUNTIME DESTINATION bin COMPONENT coordinator)
install(FILES packaging/tacit-coordinator.service DESTINATION lib/systemd/system
        COMPONENT coordinator)
install(FILES packaging/tacit-coordinator.sysusers DESTINATION lib/sysusers.d
        RENAME tacit-coordinator.conf COMPONENT coordinator)
install(FILES README.md docs/coordinator.md docs/federation.md docs/threat_model.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/tacit-coordinator COMPONENT coordinator)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tacit)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "tacit")
set(CPACK_PACKAGE_CONTACT "tacit maintainers <tacit@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX "${CMAKE_BINARY_DIR}/packages")
set(CPACK_COMPONENTS_ALL client coordinator)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tacit-client_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME tacit-client)
set(CPACK_DEBIAN_CLIENT_DESCRIPTION
    "tacit laptop client: your activity stays here, encrypted\n \
Collects key classes, shortcuts, clicks, app switches and shell command names\n \
(never typed text, arguments or window titles) into an encrypted store, and\n \
takes part in federated training sending only masked model updates.")
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_NAME tacit-coordinator)
set(CPACK_DEBIAN_COORDINATOR_DESCRIPTION
    "tacit coordinator: federated rounds with secure aggregation\n \
Runs rounds over gRPC with mutual TLS; sees only masked sums of model updates.")
include(CPack)
