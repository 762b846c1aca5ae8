"""Handlers of the v7 REST API under /api."""

from pydantic import ValidationError

from vbahv_emulator import actions, timeutil
from vbahv_emulator.errors import ApiError, bad_request, empty_response, json_response, not_found
from vbahv_emulator.models import DiskRestoreSettings, LoginData, RestoreSettings, validation_error
from vbahv_emulator.query import PAGED, Param, page
from vbahv_emulator.routing import Context, RouteTable
from vbahv_emulator.schemas import BACKUP_MODES
from vbahv_emulator.store import ClusterState, State

V7 = "/api/v7"
routes = RouteTable()


def _page(ctx: Context, items, schema: str):
    return json_response(page(items, ctx.query, schema, ctx.emu.config.maxPageSize))


def _async_task(session, status: int):
    return json_response({"sessionId": session.id}, status=status)


# --- Authorization ----------------------------------------------------------------------------


def _token_response(access, refresh):
    return json_response(
        {
            "accessToken": access.value,
            "refreshToken": refresh.value,
            "accessTokenExpiresAt": timeutil.to_iso(access.expires_at),
            "refreshTokenExpiresAt": timeutil.to_iso(refresh.expires_at),
        }
    )


def _login_data(form: dict[str, str]) -> LoginData:
    values: dict = dict(form)
    if "longLivedRefreshToken" in values:
        raw = values["longLivedRefreshToken"].lower()
        if raw not in ("true", "false"):
            raise bad_request(
                "longLivedRefreshToken must be true or false, got "
                f"'{form['longLivedRefreshToken']}'.",
                "longLivedRefreshToken",
            )
        values["longLivedRefreshToken"] = raw == "true"
    try:
        return LoginData.model_validate(values)
    except ValidationError as exc:
        raise validation_error(exc, "LoginData") from None


def issue_token(ctx: Context):
    data = _login_data(ctx.body)
    config = ctx.emu.config
    tokens = ctx.emu.tokens
    if data.grantType == "UpdaterToken":
        raise bad_request(
            "The UpdaterToken grant type is not supported by the emulator.", "grantType"
        )
    if data.grantType == "Password":
        missing = [name for name in ("userName", "password") if not getattr(data, name)]
        if missing:
            raise bad_request(
                f"The Password grant needs {' and '.join(missing)}.",
                errors={
                    name: [f"The {name} field is required for the Password grant."]
                    for name in missing
                },
            )
        if data.userName != config.username or data.password != config.password:
            raise ApiError(401, "The user name or password is incorrect.")
        lifetime = (
            config.longLivedRefreshTokenLifetime
            if data.longLivedRefreshToken
            else config.refreshTokenLifetime
        )
        access, refresh = tokens.issue(data.userName, config.accessTokenLifetime, lifetime)
        return _token_response(access, refresh)
    if not data.refreshToken:
        raise bad_request("The RefreshToken grant needs refreshToken.", "refreshToken")
    refresh = tokens.valid_refresh(data.refreshToken)
    if refresh is None:
        raise ApiError(401, "The refresh token is unknown, expired or revoked; log in again.")
    access = tokens.issue_access(refresh, config.accessTokenLifetime)
    return _token_response(access, refresh)


def logout(ctx: Context):
    ctx.emu.tokens.logout(ctx.request["access_token"])
    return empty_response()


routes.route("POST", "/api/oauth2/token", form=True, auth=False)(issue_token)
routes.route("POST", f"{V7}/token", form=True, auth=False)(issue_token)
routes.route("POST", "/api/oauth2/logout")(logout)
routes.route("DELETE", f"{V7}/token")(logout)


# --- Clusters ---------------------------------------------------------------------------------


def _cluster(ctx: Context) -> ClusterState:
    cluster_id = ctx.path_param("id")
    cluster = ctx.state.cluster(cluster_id)
    if cluster is None:
        raise not_found(f"Cluster {cluster_id} was not found.")
    return cluster


@routes.route("GET", f"{V7}/clusters")
def list_clusters(ctx: Context):
    return json_response([dict(c.info) for c in ctx.state.clusters.values()])


@routes.route("GET", f"{V7}/clusters/{{id}}")
def get_cluster(ctx: Context):
    return json_response(dict(_cluster(ctx).info))


@routes.route("GET", f"{V7}/clusters/{{id}}/vms", query=PAGED)
def list_cluster_vms(ctx: Context):
    return _page(ctx, list(_cluster(ctx).known_vms.values()), "VirtualMachine")


@routes.route("POST", f"{V7}/clusters/{{id}}/vms/refreshAsync")
def refresh_cluster_vms(ctx: Context):
    return _async_task(actions.start_inventory_rescan(ctx.emu, _cluster(ctx)), 202)


@routes.route("GET", f"{V7}/clusters/{{id}}/vms/{{vmId}}")
def get_cluster_vm(ctx: Context):
    cluster = _cluster(ctx)
    vm = cluster.known_vms.get(ctx.path_param("vmId"))
    if vm is None:
        raise not_found(f"VM {ctx.path_param('vmId')} was not found on cluster {cluster.name}.")
    return json_response(vm)


@routes.route("GET", f"{V7}/clusters/{{id}}/protectionDomains", query=PAGED)
def list_protection_domains(ctx: Context):
    return _page(ctx, _cluster(ctx).protection_domain_rows(), "ProtectionDomain")


@routes.route("POST", f"{V7}/clusters/{{id}}/protectionDomains/refresh")
def refresh_protection_domains(ctx: Context):
    _cluster(ctx)
    return empty_response()


@routes.route("GET", f"{V7}/clusters/{{id}}/networks")
def list_networks(ctx: Context):
    return json_response(_cluster(ctx).networks)


@routes.route("GET", f"{V7}/clusters/{{id}}/storageContainers", query=PAGED)
def list_storage_containers(ctx: Context):
    return _page(ctx, _cluster(ctx).storage_containers, "StorageContainer")


@routes.route("GET", f"{V7}/clusters/{{id}}/hosts")
def list_hosts(ctx: Context):
    return json_response(_cluster(ctx).hosts)


@routes.route("GET", f"{V7}/clusters/{{id}}/volumeGroups")
def list_volume_groups(ctx: Context):
    return json_response(_cluster(ctx).volume_groups)


@routes.route("GET", f"{V7}/clusters/{{id}}/volumeGroups/{{volumeGroupId}}")
def get_volume_group(ctx: Context):
    cluster = _cluster(ctx)
    group_id = ctx.path_param("volumeGroupId")
    group = next((g for g in cluster.volume_groups if g["id"] == group_id), None)
    if group is None:
        raise not_found(f"Volume group {group_id} was not found on cluster {cluster.name}.")
    return json_response(group)


@routes.route("POST", f"{V7}/clusters/{{id}}/volumeGroups/refresh")
def refresh_volume_groups(ctx: Context):
    _cluster(ctx)
    return empty_response()


@routes.route("POST", f"{V7}/clusters/{{id}}/rescanSnapshots")
def rescan_snapshots(ctx: Context):
    return _async_task(actions.start_snapshot_rescan(ctx.emu, _cluster(ctx)), 202)


# --- Virtual machines and protected VMs -------------------------------------------------------


@routes.route("GET", f"{V7}/virtualMachines", query=PAGED)
def list_virtual_machines(ctx: Context):
    return _page(ctx, ctx.state.all_known_vms(), "VirtualMachine")


@routes.route("GET", f"{V7}/protectedVms", query=PAGED)
def list_protected_vms(ctx: Context):
    return _page(ctx, ctx.state.rp_index().protected, "ProtectedVirtualMachine")


@routes.route("GET", f"{V7}/protectedVms/{{id}}/restorePoints", query=PAGED)
def list_protected_vm_points(ctx: Context):
    vm_id = ctx.path_param("id")
    index = ctx.state.rp_index()
    if vm_id not in index.protected_by_id:
        raise not_found(f"Protected VM {vm_id} was not found.")
    return _page(ctx, [State.rp_base(p) for p in index.by_vm[vm_id]], "RestorePointBase")


# --- Restore points ---------------------------------------------------------------------------


def _point(ctx: Context, point_type: str | None = None) -> dict:
    point_id = ctx.path_param("id")
    point = ctx.state.restore_points.get(point_id)
    if point is None or (point_type is not None and point["type"] != point_type):
        kind = f"{point_type} restore point" if point_type else "Restore point"
        raise not_found(f"{kind} {point_id} was not found.")
    return point


@routes.route(
    "GET", f"{V7}/restorePoints", query=PAGED | {"vmId": Param("str"), "clusterId": Param("str")}
)
def list_restore_points(ctx: Context):
    index = ctx.state.rp_index()
    vm_id = ctx.query.get("vmId")
    cluster_id = ctx.query.get("clusterId")
    points = index.by_vm.get(vm_id, []) if vm_id is not None else index.ordered
    if cluster_id is not None:
        points = [p for p in points if p["clusterId"] == cluster_id]
    return _page(ctx, [State.rp_base(p) for p in points], "RestorePointBase")


@routes.route("GET", f"{V7}/restorePoints/{{id}}")
def get_restore_point(ctx: Context):
    return json_response(State.rp_base(_point(ctx)))


@routes.route(
    "DELETE", f"{V7}/restorePoints/{{id}}/delete", query={"deleteFromServer": Param("bool")}
)
def delete_restore_point(ctx: Context):
    ctx.state.delete_restore_point(_point(ctx)["id"])
    return empty_response()


@routes.route("GET", f"{V7}/restorePoints/backups/{{id}}")
def get_backup_point(ctx: Context):
    return json_response(State.rp_detail(_point(ctx, "Backup")))


@routes.route("GET", f"{V7}/restorePoints/backupSnapshots/{{id}}")
def get_backup_snapshot(ctx: Context):
    return json_response(State.rp_detail(_point(ctx, "BackupSnapshot")))


@routes.route("GET", f"{V7}/restorePoints/userSnapshots/{{id}}")
def get_user_snapshot(ctx: Context):
    return json_response(State.rp_detail(_point(ctx, "UserSnapshot")))


@routes.route("GET", f"{V7}/restorePoints/protectionDomainSnapshots/{{id}}")
def get_pd_snapshot(ctx: Context):
    return json_response(State.rp_detail(_point(ctx, "PdSnapshot")))


@routes.route("GET", f"{V7}/restorePoints/{{id}}/disks")
def list_point_disks(ctx: Context):
    point = _point(ctx)
    if point["type"] == "VolumeGroupSnapshot":
        return json_response(point.get("disks") or [])
    return json_response([disk for vm in point["vms"] for disk in vm["disks"]])


@routes.route("GET", f"{V7}/restorePoints/{{id}}/networkAdapters")
def list_point_adapters(ctx: Context):
    point = _point(ctx)
    if point["type"] not in ("Backup", "BackupSnapshot"):
        raise bad_request(
            "Network adapters are only available for Backup and BackupSnapshot restore points; "
            f"{point['id']} is a {point['type']}.",
            "id",
        )
    return json_response(point["vms"][0]["networkAdapters"])


@routes.route("POST", f"{V7}/restorePoints/restore", body=RestoreSettings)
def restore_vm(ctx: Context):
    return _async_task(actions.start_restore(ctx.emu, ctx.body), 200)


@routes.route("POST", f"{V7}/restorePoints/diskRestore", body=DiskRestoreSettings)
def restore_disks(ctx: Context):
    return _async_task(actions.start_disk_restore(ctx.emu, ctx.body), 200)


# --- Sessions ---------------------------------------------------------------------------------


def _session(ctx: Context):
    session_id = ctx.path_param("id")
    session = ctx.state.sessions.get(session_id)
    if session is None:
        raise not_found(f"Session {session_id} was not found.")
    return session


@routes.route(
    "GET", f"{V7}/sessions", query=PAGED | {"from": Param("datetime"), "to": Param("datetime")}
)
def list_sessions(ctx: Context):
    moment = timeutil.now()
    start_from = ctx.query.get("from")
    end_at = ctx.query.get("to")
    rows = [
        s.base_info(moment)
        for s in ctx.state.sessions_newest_first()
        if (start_from is None or s.start >= start_from) and (end_at is None or s.start <= end_at)
    ]
    return _page(ctx, rows, "SessionBaseInfo")


@routes.route("GET", f"{V7}/sessions/{{id}}")
def get_session(ctx: Context):
    return json_response(_session(ctx).detail(timeutil.now()))


@routes.route("POST", f"{V7}/sessions/{{id}}/stop")
def stop_session(ctx: Context):
    actions.stop_session(ctx.emu, _session(ctx))
    return empty_response()


# --- Jobs -------------------------------------------------------------------------------------


def _job(ctx: Context) -> dict:
    job_id = ctx.path_param("id")
    job = ctx.state.jobs.get(job_id)
    if job is None:
        raise not_found(f"Job {job_id} was not found.")
    return job


@routes.route("GET", f"{V7}/jobs", query=PAGED)
def list_jobs(ctx: Context):
    return _page(
        ctx, [actions.render_job(ctx.state, job) for job in ctx.state.jobs.values()], "Job"
    )


@routes.route("GET", f"{V7}/jobs/{{id}}")
def get_job(ctx: Context):
    return json_response(actions.render_job(ctx.state, _job(ctx)))


@routes.route("GET", f"{V7}/jobs/{{id}}/settings")
def get_job_settings(ctx: Context):
    return json_response(actions.render_job_settings(_job(ctx)))


@routes.route(
    "POST", f"{V7}/jobs/{{id}}/start", query={"backupMode": Param("enum", choices=BACKUP_MODES)}
)
def start_job(ctx: Context):
    mode = ctx.query.get("backupMode")
    return _async_task(
        actions.start_job(ctx.emu, _job(ctx), None if mode == "Unknown" else mode), 200
    )


@routes.route("POST", f"{V7}/jobs/{{id}}/stop")
def stop_job(ctx: Context):
    actions.stop_job(ctx.emu, _job(ctx))
    return empty_response()


@routes.route("POST", f"{V7}/jobs/{{id}}/enable")
def enable_job(ctx: Context):
    _job(ctx)["enabled"] = True
    return empty_response()


@routes.route("POST", f"{V7}/jobs/{{id}}/disable")
def disable_job(ctx: Context):
    _job(ctx)["enabled"] = False
    return empty_response()


# --- Backup server ----------------------------------------------------------------------------


@routes.route("GET", f"{V7}/backupServer")
def get_backup_server(ctx: Context):
    server = ctx.state.backup_server
    if not server:
        raise not_found("No backup server is configured in this dataset.")
    return json_response(
        {
            "address": server.get("address"),
            "port": server.get("port"),
            "repositoriesCount": len(ctx.state.repositories),
            "state": server.get("state"),
            "version": server.get("version"),
        }
    )


@routes.route("GET", f"{V7}/backupServer/repositories", query=PAGED)
def list_repositories(ctx: Context):
    return _page(ctx, ctx.state.repositories, "BackupRepository")


@routes.route("GET", f"{V7}/backupServer/repositories/{{id}}")
def get_repository(ctx: Context):
    repository_id = ctx.path_param("id")
    repository = next((r for r in ctx.state.repositories if r["id"] == repository_id), None)
    if repository is None:
        raise not_found(f"Repository {repository_id} was not found.")
    return json_response(repository)


@routes.route("POST", f"{V7}/backupServer/rescanBackups")
def rescan_backups(ctx: Context):
    return _async_task(actions.start_backup_rescan(ctx.emu), 202)
