/* Every fixed limit in one place. */
#ifndef MOAT_LIMITS_H
#define MOAT_LIMITS_H

#define MOAT_CMD_MAX		512	/* longest command line, CRLF included */
#define MOAT_REPLY_MAX		1024	/* longest single reply line we send */
#define MOAT_NAME_MAX		32	/* longest account name */
#define MOAT_PASS_MAX		256	/* longest password accepted */
#define MOAT_HASH_MAX		256	/* longest crypt(3) string */
#define MOAT_LISTEN_MAX		8	/* listen addresses */
#define MOAT_PROXY_FROM_MAX	32	/* proxy_from prefixes */
#define MOAT_PATH_MAX		4096	/* virtual path */
#define MOAT_XFER_BUF		(256 * 1024)	/* data-path buffer */
#define MOAT_TLS_SESS_MAX	1024	/* a TLS 1.2 session, serialized */
#define MOAT_DATA_LOWAT		(16 * 1024)	/* unsent bytes a data socket
						 * may hold: one TLS record */

#endif
