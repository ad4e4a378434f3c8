"""Help metadata of the dokku service plugins' subcommands.

The ``#E`` (examples), ``#A`` (arguments), ``#F`` (flags) comments, ``desc`` and the
``declare`` argument list of every ``subcommands/<name>`` script of dokku-postgres 1.48.0 and
dokku-redis 1.43.0: identical in both plugins but for the DSN shape in two examples
(``${URL_USER_*}``/``${URL_PATH_*}`` below).  Kept with the plugins' own ``$PLUGIN_*``
placeholders; ``services_help`` expands and renders them as the plugins' ``help-functions`` do.
"""

from __future__ import annotations

SUBCOMMANDS: dict[str, dict] = {
    "app-links": {
        "desc": "list all $PLUGIN_SERVICE service links for a given app",
        "args": [
            "APP",
        ],
        "A": [
            "app, app to run command against",
        ],
        "F": [],
        "E": [
            "list all $PLUGIN_COMMAND_PREFIX services that are linked to the 'playground' app.",
            "dokku $PLUGIN_COMMAND_PREFIX:app-links playground",
        ],
    },
    "backup": {
        "desc": "create a backup of the $PLUGIN_SERVICE service to an existing s3 bucket",
        "args": [
            "SERVICE",
            "BUCKET_NAME",
            "USE_IAM_OPTIONAL_FLAG",
        ],
        "A": [
            "service, service to run command against",
            "bucket-name, name of the s3 bucket to upload backups to",
        ],
        "F": [
            "-u|--use-iam, use the IAM profile associated with the current server",
        ],
        "E": [
            "backup the 'lollipop' service to the 'my-s3-bucket' bucket on AWS",
            "dokku $PLUGIN_COMMAND_PREFIX:backup lollipop my-s3-bucket --use-iam",
            "restore a backup file (assuming it was extracted via 'tar -xf backup.tgz')",
            "dokku $PLUGIN_COMMAND_PREFIX:import lollipop < backup-folder/export",
        ],
    },
    "backup-auth": {
        "desc": "set up authentication for backups on the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_SIGNATURE_VERSION",
            "ENDPOINT_URL",
        ],
        "A": [
            "service, service to run command against",
            "access-key-id, an amazon AWS_ACCESS_KEY_ID",
            "aws-secret-access-key, an amazon AWS_SECRET_ACCESS_KEY",
            "aws-default-region, (optional) a valid amazon S3 region",
            "aws-signature-version, (optional) the AWS signature version to use when signing S3 requests",
            "endpoint-url, (optional) an aws endpoint to upload to",
        ],
        "F": [],
        "E": [
            "setup s3 backup authentication",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-auth lollipop AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY",
            "setup s3 backup authentication with different region",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-auth lollipop AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION",
            "setup s3 backup authentication with different signature version and endpoint",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-auth lollipop AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_SIGNATURE_VERSION ENDPOINT_URL",
            "more specific example for minio auth",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-auth lollipop MINIO_ACCESS_KEY_ID MINIO_SECRET_ACCESS_KEY us-east-1 s3v4 https://YOURMINIOSERVICE",
        ],
    },
    "backup-deauth": {
        "desc": "remove backup authentication for the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "remove s3 authentication",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-deauth lollipop",
        ],
    },
    "backup-schedule": {
        "desc": "schedule a backup of the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
            "SCHEDULE",
            "BUCKET_NAME",
            "USE_IAM_OPTIONAL_FLAG",
        ],
        "A": [
            "service, service to run command against",
            "schedule, a cron schedule to run backups on",
            "bucket-name, name of the s3 bucket to upload backups to",
        ],
        "F": [
            "-u|--use-iam, use the IAM profile associated with the current server",
        ],
        "E": [
            "schedule a backup",
            "> 'schedule' is a crontab expression, eg. \"0 3 * * *\" for each day at 3am",
            'dokku $PLUGIN_COMMAND_PREFIX:backup-schedule lollipop "0 3 * * *" my-s3-bucket',
            "schedule a backup and authenticate via iam",
            'dokku $PLUGIN_COMMAND_PREFIX:backup-schedule lollipop "0 3 * * *" my-s3-bucket --use-iam',
        ],
    },
    "backup-schedule-cat": {
        "desc": "cat the contents of the configured backup cronfile for the service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "cat the contents of the configured backup cronfile for the service",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-schedule-cat lollipop",
        ],
    },
    "backup-set-encryption": {
        "desc": "set encryption for all future backups of $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
            "PASSPHRASE",
        ],
        "A": [
            "service, service to run command against",
            "passphrase, a GPG-compatible passphrase",
        ],
        "F": [],
        "E": [
            "set the GPG-compatible passphrase for encrypting backups for backups",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-set-encryption lollipop",
            "public key encryption will take precendence over the passphrase encryption if both types are set.",
        ],
    },
    "backup-set-public-key-encryption": {
        "desc": "set GPG Public Key encryption for all future backups of $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
            "PUBLIC_KEY_ID",
        ],
        "A": [
            "service, service to run command against",
            "public-key-id, a GPG Public Key ID (or fingerprint) to use for encryption. Must be uploaded to the GPG keyserver beforehand.",
        ],
        "F": [],
        "E": [
            "set the GPG Public Key for encrypting backups",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-set-public-key-encryption lollipop",
            "this method currently requires the <public-key-id> to be present on the keyserver 'keyserver.ubuntu.com'",
        ],
    },
    "backup-unschedule": {
        "desc": "unschedule the backup of the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "remove the scheduled backup from cron",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-unschedule lollipop",
        ],
    },
    "backup-unset-encryption": {
        "desc": "unset encryption for future backups of the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "unset the GPG encryption passphrase for backups",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-unset-encryption lollipop",
        ],
    },
    "backup-unset-public-key-encryption": {
        "desc": "unset GPG Public Key encryption for future backups of the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "unset the GPG Public Key encryption for backups",
            "dokku $PLUGIN_COMMAND_PREFIX:backup-unset-public-key-encryption lollipop",
        ],
    },
    "clone": {
        "desc": "create container <new-name> then copy data from <name> into <new-name>",
        "args": [
            "SERVICE",
            "NEW_SERVICE",
            "CLONE_FLAGS_LIST",
        ],
        "A": [
            "service, service to run command against",
            "new-service, name of new service",
        ],
        "F": [
            '-c|--config-options "--args --go=here", extra arguments to pass to the container create command',
            '-C|--custom-env "USER=alpha;HOST=beta", semi-colon delimited environment variables to start the service with',
            "-i|--image IMAGE, the image name to start the service with",
            "-I|--image-version IMAGE_VERSION, the image version to start the service with",
            "-m|--memory MEMORY, container memory limit in megabytes (default: unlimited)",
            "-N|--initial-network INITIAL_NETWORK, the initial network to attach the service to",
            "-p|--password PASSWORD, override the user-level service password",
            "-P|--post-create-network NETWORKS, a comma-separated list of networks to attach the service container to after service creation",
            "-r|--root-password PASSWORD, override the root-level service password",
            "-S|--post-start-network NETWORKS, a comma-separated list of networks to attach the service container to after service start",
            "-s|--shm-size SHM_SIZE, override shared memory size for $PLUGIN_COMMAND_PREFIX docker container",
        ],
        "E": [
            "you can clone an existing service to a new one",
            "dokku $PLUGIN_COMMAND_PREFIX:clone lollipop lollipop-2",
        ],
    },
    "connect": {
        "desc": "connect to the service via the $PLUGIN_COMMAND_PREFIX connection tool",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "connect to the service via the $PLUGIN_COMMAND_PREFIX connection tool",
            "> NOTE: disconnecting from ssh while running this command may leave zombie processes due to moby/moby#9098",
            "dokku $PLUGIN_COMMAND_PREFIX:connect lollipop",
        ],
    },
    "create": {
        "desc": "create a $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
            "CREATE_FLAGS_LIST",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [
            '-c|--config-options "--args --go=here", extra arguments to pass to the container create command',
            '-C|--custom-env "USER=alpha;HOST=beta", semi-colon delimited environment variables to start the service with',
            "-i|--image IMAGE, the image name to start the service with",
            "-I|--image-version IMAGE_VERSION, the image version to start the service with",
            "-m|--memory MEMORY, container memory limit in megabytes (default: unlimited)",
            "-N|--initial-network INITIAL_NETWORK, the initial network to attach the service to",
            "-p|--password PASSWORD, override the user-level service password",
            "-P|--post-create-network NETWORKS, a comma-separated list of networks to attach the service container to after service creation",
            "-r|--root-password PASSWORD, override the root-level service password",
            "-S|--post-start-network NETWORKS, a comma-separated list of networks to attach the service container to after service start",
            "-s|--shm-size SHM_SIZE, override shared memory size for $PLUGIN_COMMAND_PREFIX docker container",
        ],
        "E": [
            "create a $PLUGIN_COMMAND_PREFIX service named lollipop",
            "dokku $PLUGIN_COMMAND_PREFIX:create lollipop",
            "you can also specify the image and image version to use for the service.",
            "it *must* be compatible with the ${PLUGIN_IMAGE} image.",
            'export ${PLUGIN_VARIABLE}_IMAGE="${PLUGIN_IMAGE}"',
            'export ${PLUGIN_VARIABLE}_IMAGE_VERSION="${PLUGIN_IMAGE_VERSION}"',
            "dokku $PLUGIN_COMMAND_PREFIX:create lollipop",
            "you can also specify custom environment variables to start",
            "the ${PLUGIN_COMMAND_PREFIX} service in semicolon-separated form.",
            'export ${PLUGIN_VARIABLE}_CUSTOM_ENV="USER=alpha;HOST=beta"',
            "dokku $PLUGIN_COMMAND_PREFIX:create lollipop",
        ],
    },
    "destroy": {
        "desc": "delete the $PLUGIN_SERVICE service/data/container if there are no links left",
        "args": [
            "SERVICE",
            "FORCE_FLAG",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [
            "-f|--force, force destroy without asking for confirmation",
        ],
        "E": [
            "destroy the service, it's data, and the running container",
            "dokku $PLUGIN_COMMAND_PREFIX:destroy lollipop",
        ],
    },
    "enter": {
        "desc": "enter or run a command in a running $PLUGIN_SERVICE service container",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "a bash prompt can be opened against a running service.",
            "filesystem changes will not be saved to disk.",
            "> NOTE: disconnecting from ssh while running this command may leave zombie processes due to moby/moby#9098",
            "dokku $PLUGIN_COMMAND_PREFIX:enter lollipop",
            "you may also run a command directly against the service.",
            "filesystem changes will not be saved to disk.",
            "dokku $PLUGIN_COMMAND_PREFIX:enter lollipop touch /tmp/test",
        ],
    },
    "exists": {
        "desc": "check if the $PLUGIN_SERVICE service exists",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "here we check if the lollipop $PLUGIN_COMMAND_PREFIX service exists.",
            "dokku $PLUGIN_COMMAND_PREFIX:exists lollipop",
        ],
    },
    "export": {
        "desc": "export a dump of the $PLUGIN_SERVICE service database",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "by default, datastore output is exported to stdout",
            "dokku $PLUGIN_COMMAND_PREFIX:export lollipop",
            "you can redirect this output to a file",
            "dokku $PLUGIN_COMMAND_PREFIX:export lollipop > data.dump",
        ],
    },
    "expose": {
        "desc": "expose a $PLUGIN_SERVICE service on custom host:port if provided (random port on the 0.0.0.0 interface if otherwise unspecified)",
        "args": [
            "SERVICE",
            "PORTS_LIST",
        ],
        "A": [
            "service, service to run command against",
            "ports, a list of ports to run against",
        ],
        "F": [],
        "E": [
            "expose the service on the service's normal ports, allowing access to it from the public interface (0.0.0.0)",
            "dokku $PLUGIN_COMMAND_PREFIX:expose lollipop ${PLUGIN_DATASTORE_PORTS[@]}",
            "expose the service on the service's normal ports, with the first on a specified ip address (127.0.0.1)",
            "dokku $PLUGIN_COMMAND_PREFIX:expose lollipop 127.0.0.1:${PLUGIN_DATASTORE_PORTS[@]}",
        ],
    },
    "import": {
        "desc": "import a dump into the $PLUGIN_SERVICE service database",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "import a datastore dump",
            "dokku $PLUGIN_COMMAND_PREFIX:import lollipop < data.dump",
        ],
    },
    "info": {
        "desc": "print the service information",
        "args": [
            "SERVICE",
            "INFO_FLAG",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [
            "--config-dir, show the service configuration directory",
            "--data-dir, show the service data directory",
            "--dsn, show the service DSN",
            "--exposed-ports, show service exposed ports",
            "--id, show the service container id",
            "--internal-ip, show the service internal ip",
            "--initial-network, show the initial network being connected to",
            "--links, show the service app links",
            "--post-create-network, show the networks to attach to after service container creation",
            "--post-start-network, show the networks to attach to after service container start",
            "--service-root, show the service root directory",
            "--status, show the service running status",
            "--version, show the service image version",
        ],
        "E": [
            "get connection information as follows:",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop",
            "you can also retrieve a specific piece of service info via flags:",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --config-dir",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --data-dir",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --dsn",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --exposed-ports",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --id",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --internal-ip",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --initial-network",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --links",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --post-create-network",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --post-start-network",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --service-root",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --status",
            "dokku $PLUGIN_COMMAND_PREFIX:info lollipop --version",
        ],
    },
    "link": {
        "desc": "link the $PLUGIN_SERVICE service to the app",
        "args": [
            "SERVICE",
            "APP",
            "LINK_FLAGS_LIST",
        ],
        "A": [
            "service, service to run command against",
            "app, app to run command against",
        ],
        "F": [
            '-a|--alias "BLUE_DATABASE", an alternative alias to use for linking to an app via environment variable',
            '-q|--querystring "pool=5", ampersand delimited querystring arguments to append to the service link',
            '-n|--no-restart "false", whether or not to restart the app on link (default: true)',
        ],
        "E": [
            "a $PLUGIN_COMMAND_PREFIX service can be linked to a container.",
            "this will use native docker links via the docker-options plugin.",
            "here we link it to our 'playground' app.",
            "> NOTE: this will restart your app",
            "dokku $PLUGIN_COMMAND_PREFIX:link lollipop playground",
            "the following environment variables will be set automatically by docker",
            "(not on the app itself, so they won\u2019t be listed when calling dokku config):",
            "",
            "    DOKKU_${PLUGIN_VARIABLE}_LOLLIPOP_NAME=/lollipop/DATABASE",
            "    DOKKU_${PLUGIN_VARIABLE}_LOLLIPOP_PORT=tcp://172.17.0.1:${PLUGIN_DATASTORE_PORTS[0]}",
            "    DOKKU_${PLUGIN_VARIABLE}_LOLLIPOP_PORT_${PLUGIN_DATASTORE_PORTS[0]}_TCP=tcp://172.17.0.1:${PLUGIN_DATASTORE_PORTS[0]}",
            "    DOKKU_${PLUGIN_VARIABLE}_LOLLIPOP_PORT_${PLUGIN_DATASTORE_PORTS[0]}_TCP_PROTO=tcp",
            "    DOKKU_${PLUGIN_VARIABLE}_LOLLIPOP_PORT_${PLUGIN_DATASTORE_PORTS[0]}_TCP_PORT=${PLUGIN_DATASTORE_PORTS[0]}",
            "    DOKKU_${PLUGIN_VARIABLE}_LOLLIPOP_PORT_${PLUGIN_DATASTORE_PORTS[0]}_TCP_ADDR=172.17.0.1",
            "",
            "the following will be set on the linked application by default:",
            "",
            "    ${PLUGIN_DEFAULT_ALIAS}_URL=${PLUGIN_SCHEME}://${URL_USER_LINK}:SOME_PASSWORD@dokku-${PLUGIN_COMMAND_PREFIX}-lollipop:${PLUGIN_DATASTORE_PORTS[0]}${URL_PATH_LOLLIPOP}",
            "",
            "the host exposed here only works internally in docker containers.",
            "if you want your container to be reachable from outside, you should",
            "use the 'expose' subcommand. another service can be linked to your app:",
            "dokku $PLUGIN_COMMAND_PREFIX:link other_service playground",
            "it is possible to change the protocol for ${PLUGIN_DEFAULT_ALIAS}_URL by setting the",
            "environment variable ${PLUGIN_VARIABLE}_DATABASE_SCHEME on the app. doing so will",
            "after linking will cause the plugin to think the service is not",
            "linked, and we advise you to unlink before proceeding.",
            "dokku config:set playground ${PLUGIN_VARIABLE}_DATABASE_SCHEME=${PLUGIN_SCHEME}2",
            "dokku $PLUGIN_COMMAND_PREFIX:link lollipop playground",
            "this will cause ${PLUGIN_DEFAULT_ALIAS}_URL to be set as:",
            "",
            "    ${PLUGIN_SCHEME}2://${URL_USER_LINK}:SOME_PASSWORD@dokku-${PLUGIN_COMMAND_PREFIX}-lollipop:${PLUGIN_DATASTORE_PORTS[0]}${URL_PATH_LOLLIPOP}",
        ],
    },
    "linked": {
        "desc": "check if the $PLUGIN_SERVICE service is linked to an app",
        "args": [
            "SERVICE",
            "APP",
        ],
        "A": [
            "service, service to run command against",
            "app, app to run command against",
        ],
        "F": [],
        "E": [
            "here we check if the lollipop $PLUGIN_COMMAND_PREFIX service is linked to the 'playground' app.",
            "dokku $PLUGIN_COMMAND_PREFIX:linked lollipop playground",
        ],
    },
    "links": {
        "desc": "list all apps linked to the $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "list all apps linked to the 'lollipop' $PLUGIN_COMMAND_PREFIX service.",
            "dokku $PLUGIN_COMMAND_PREFIX:links lollipop",
        ],
    },
    "list": {
        "desc": "list all $PLUGIN_SERVICE services",
        "args": [],
        "A": [],
        "F": [],
        "E": [
            "list all services",
            "dokku $PLUGIN_COMMAND_PREFIX:list",
        ],
    },
    "logs": {
        "desc": "print the most recent log(s) for this service",
        "args": [
            "SERVICE",
            "TAIL_FLAG",
            "TAIL_NUM_OPTIONAL",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [
            "-t|--tail [<tail-num>], do not stop when end of the logs are reached and wait for additional output",
        ],
        "E": [
            "you can tail logs for a particular service:",
            "dokku $PLUGIN_COMMAND_PREFIX:logs lollipop",
            "by default, logs will not be tailed, but you can do this with the --tail flag:",
            "dokku $PLUGIN_COMMAND_PREFIX:logs lollipop --tail",
            "the default tail setting is to show all logs, but an initial count can also be specified",
            "dokku $PLUGIN_COMMAND_PREFIX:logs lollipop --tail 5",
        ],
    },
    "pause": {
        "desc": "pause a running $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "pause the running container for the service",
            "dokku $PLUGIN_COMMAND_PREFIX:pause lollipop",
        ],
    },
    "promote": {
        "desc": "promote service <service> as ${PLUGIN_DEFAULT_ALIAS}_URL in <app>",
        "args": [
            "SERVICE",
            "APP",
        ],
        "A": [
            "service, service to run command against",
            "app, app to run command against",
        ],
        "F": [],
        "E": [
            "if you have a $PLUGIN_COMMAND_PREFIX service linked to an app and try to link another $PLUGIN_COMMAND_PREFIX service",
            "another link environment variable will be generated automatically:",
            "",
            "    DOKKU_${PLUGIN_DEFAULT_ALIAS}_BLUE_URL=${PLUGIN_SCHEME}://${URL_USER_OTHER}:ANOTHER_PASSWORD@dokku-${PLUGIN_COMMAND_PREFIX}-other-service:${PLUGIN_DATASTORE_PORTS[0]}/other_service",
            "",
            "you can promote the new service to be the primary one",
            "> NOTE: this will restart your app",
            "dokku $PLUGIN_COMMAND_PREFIX:promote other_service playground",
            "this will replace ${PLUGIN_DEFAULT_ALIAS}_URL with the url from other_service and generate",
            "another environment variable to hold the previous value if necessary.",
            "you could end up with the following for example:",
            "",
            "    ${PLUGIN_DEFAULT_ALIAS}_URL=${PLUGIN_SCHEME}://${URL_USER_OTHER}:ANOTHER_PASSWORD@dokku-${PLUGIN_COMMAND_PREFIX}-other-service:${PLUGIN_DATASTORE_PORTS[0]}/other_service",
            "    DOKKU_${PLUGIN_DEFAULT_ALIAS}_BLUE_URL=${PLUGIN_SCHEME}://${URL_USER_OTHER}:ANOTHER_PASSWORD@dokku-${PLUGIN_COMMAND_PREFIX}-other-service:${PLUGIN_DATASTORE_PORTS[0]}/other_service",
            "    DOKKU_${PLUGIN_DEFAULT_ALIAS}_SILVER_URL=${PLUGIN_SCHEME}://${URL_USER_LOLLIPOP}:SOME_PASSWORD@dokku-${PLUGIN_COMMAND_PREFIX}-lollipop:${PLUGIN_DATASTORE_PORTS[0]}/lollipop",
        ],
    },
    "restart": {
        "desc": "graceful shutdown and restart of the $PLUGIN_SERVICE service container",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "restart the service",
            "dokku $PLUGIN_COMMAND_PREFIX:restart lollipop",
        ],
    },
    "set": {
        "desc": "set or clear a property for a service",
        "args": [
            "SERVICE",
            "KEY",
            "VALUE",
        ],
        "A": [
            "service, service to run command against",
            "key, property name to set",
            "value, optional property value to set or empty to unset key",
        ],
        "F": [],
        "E": [
            "set the network to attach after the service container is started",
            "dokku $PLUGIN_COMMAND_PREFIX:set lollipop post-create-network custom-network",
            "set multiple networks",
            "dokku $PLUGIN_COMMAND_PREFIX:set lollipop post-create-network custom-network,other-network",
            "unset the post-create-network value",
            "dokku $PLUGIN_COMMAND_PREFIX:set lollipop post-create-network",
        ],
    },
    "start": {
        "desc": "start a previously stopped $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "start the service",
            "dokku $PLUGIN_COMMAND_PREFIX:start lollipop",
        ],
    },
    "stop": {
        "desc": "stop a running $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "stop the service and removes the running container",
            "dokku $PLUGIN_COMMAND_PREFIX:stop lollipop",
        ],
    },
    "unexpose": {
        "desc": "unexpose a previously exposed $PLUGIN_SERVICE service",
        "args": [
            "SERVICE",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [],
        "E": [
            "unexpose the service, removing access to it from the public interface (0.0.0.0)",
            "dokku $PLUGIN_COMMAND_PREFIX:unexpose lollipop",
        ],
    },
    "unlink": {
        "desc": "unlink the $PLUGIN_SERVICE service from the app",
        "args": [
            "SERVICE",
            "APP",
        ],
        "A": [
            "service, service to run command against",
            "app, app to run command against",
        ],
        "F": [
            '-n|--no-restart "false", whether or not to restart the app on unlink (default: true)',
        ],
        "E": [
            "you can unlink a $PLUGIN_COMMAND_PREFIX service",
            "> NOTE: this will restart your app and unset related environment variables",
            "dokku $PLUGIN_COMMAND_PREFIX:unlink lollipop playground",
        ],
    },
    "upgrade": {
        "desc": "upgrade service <service> to the specified versions",
        "args": [
            "SERVICE",
            "UPGRADE_FLAGS_LIST",
        ],
        "A": [
            "service, service to run command against",
        ],
        "F": [
            '-c|--config-options "--args --go=here", extra arguments to pass to the container create command',
            '-C|--custom-env "USER=alpha;HOST=beta", semi-colon delimited environment variables to start the service with',
            "-i|--image IMAGE, the image name to start the service with",
            "-I|--image-version IMAGE_VERSION, the image version to start the service with",
            "-N|--initial-network INITIAL_NETWORK, the initial network to attach the service to",
            "-P|--post-create-network NETWORKS, a comma-separated list of networks to attach the service container to after service creation",
            '-R|--restart-apps "true", whether or not to force an app restart (default: false)',
            "-S|--post-start-network NETWORKS, a comma-separated list of networks to attach the service container to after service start",
            "-s|--shm-size SHM_SIZE, override shared memory size for $PLUGIN_COMMAND_PREFIX docker container",
        ],
        "E": [
            "you can upgrade an existing service to a new image or image-version",
            "dokku $PLUGIN_COMMAND_PREFIX:upgrade lollipop",
        ],
    },
}

# Subcommands only some plugins have: dokku-mongo's ``subcommands/connect-admin``.
EXTRA_SUBCOMMANDS: dict[str, dict[str, dict]] = {
    "mongo": {
        "connect-admin": {
            "desc": "connect via mongo to a $PLUGIN_SERVICE service as admin user",
            "args": [
                "SERVICE",
            ],
            "A": [
                "service, service to run command against",
            ],
            "F": [],
            "E": [
                "connect with the admin user to the service via the $PLUGIN_COMMAND_PREFIX connection tool",
                "dokku $PLUGIN_COMMAND_PREFIX:connect-admin lollipop",
            ],
        },
    },
}


def subcommands_for(kind: str) -> dict[str, dict]:
    """The help metadata of every subcommand one plugin ships, in name order."""
    merged = {**SUBCOMMANDS, **EXTRA_SUBCOMMANDS.get(kind, {})}
    return dict(sorted(merged.items()))
