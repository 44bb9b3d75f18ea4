/*
 * moatadm gencert: a self-signed certificate for the daemon, with the
 * OpenSSL API. EC P-256 key, CN and subjectAltName from --cn, written to
 * the config's tls_key (0600) and tls_cert (0644) through temp files.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shared/log.h"
#include "shared/mkdirp.h"
#include "admin/admin.h"

#define GENCERT_USAGE	"gencert [--cn NAME] [--days N]"
#define CN_MAX		64	/* ub-common-name */

static int	valid_cn(const char *);
static int	is_ip(const char *);
static int	add_ext(X509 *, int, const char *);
static X509	*make_cert(EVP_PKEY *, const char *, long);
static int	write_pem(const char *, mode_t, EVP_PKEY *, X509 *, char *,
		    size_t);
static int	ssl_fail(const char *);
static int	keep_old_key(const char *, char *, size_t);

/* An IP address, or a host name: labels of 1-63 letters, digits and '-'
 * (not first or last), the last one not all digits, a leading "*." allowed. */
static int
valid_cn(const char *cn)
{
	const char	*p;
	size_t		 label = 0;
	int		 digits = 1;

	if (cn[0] == '\0' || strlen(cn) > CN_MAX)
		return -1;
	if (is_ip(cn))
		return 0;
	if (strncmp(cn, "*.", 2) == 0)
		cn += 2;
	for (p = cn;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return -1;
			if (*p == '\0')
				return digits ? -1 : 0;
			label = 0;
			digits = 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return -1;
		if (*p == '-' && label == 0)
			return -1;
		if (!isdigit((unsigned char)*p))
			digits = 0;
		label++;
	}
}

static int
is_ip(const char *s)
{
	unsigned char	buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static int
ssl_fail(const char *what)
{
	unsigned long	e = ERR_get_error();
	char		buf[256];

	if (e == 0)
		return adm_fail("%s failed", what);
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return adm_fail("%s: %s", what, buf);
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static X509 *
make_cert(EVP_PKEY *key, const char *cn, long days)
{
	X509		*x;
	X509_NAME	*name;
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*serial;
	char		 san[2 * CN_MAX + 32];

	if (is_ip(cn))
		(void)snprintf(san, sizeof(san), "IP:%s", cn);
	else if (strcmp(cn, "localhost") == 0)
		(void)snprintf(san, sizeof(san),
		    "DNS:localhost,IP:127.0.0.1,IP:::1");
	else
		(void)snprintf(san, sizeof(san), "DNS:%s", cn);
	if ((x = X509_new()) == NULL)
		return NULL;
	/* A random, positive 127-bit serial. */
	if ((bn = BN_new()) == NULL || BN_rand(bn, 127, BN_RAND_TOP_ANY,
	    BN_RAND_BOTTOM_ANY) != 1 || (serial =
	    X509_get_serialNumber(x)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, serial) == NULL)
		goto fail;
	if (X509_set_version(x, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0,
	    NULL) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") == -1 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") == -1 ||
	    add_ext(x, NID_subject_key_identifier, "hash") == -1 ||
	    add_ext(x, NID_subject_alt_name, san) == -1)
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	BN_free(bn);
	return x;
 fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/*
 * A second name for the key at keypath, new (never one that exists, such
 * as an admin's key.pem.old), into kold; "" if there is no key. ADM_OK or
 * a failure (reported).
 */
static int
keep_old_key(const char *keypath, char *kold, size_t len)
{
	int	i;

	kold[0] = '\0';
	for (i = 0; i < 16; i++) {
		if ((size_t)snprintf(kold, len, "%s.moatadm-%08x", keypath,
		    arc4random()) >= len) {
			kold[0] = '\0';
			return adm_fail("%s: path too long", keypath);
		}
		if (link(keypath, kold) == 0)
			return ADM_OK;
		if (errno == ENOENT) {
			kold[0] = '\0';	/* no key yet */
			return ADM_OK;
		}
		if (errno != EEXIST) {
			kold[0] = '\0';
			return adm_failw("link %s", keypath);
		}
	}
	kold[0] = '\0';
	return adm_fail("%s: no free name for the old key", keypath);
}

/*
 * Write key (if set) or cert as PEM to path.tmp with mode; the caller
 * renames it. The temp path goes to tmp. 0 or -1 (errno or OpenSSL).
 */
static int
write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert,
    char *tmp, size_t tmplen)
{
	FILE	*fp;
	int	 fd, ok, saved;

	if ((size_t)snprintf(tmp, tmplen, "%s.tmp", path) >= tmplen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(tmp) == -1 && errno != ENOENT)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		(void)close(fd);
		goto fail;
	}
	if (key != NULL)
		ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_X509(fp, cert);
	if (!ok)
		errno = EIO;
	if (!ok || fflush(fp) == EOF || fsync(fileno(fp)) == -1) {
		saved = errno;
		(void)fclose(fp);
		goto fail;
	}
	if (fclose(fp) == EOF) {
		saved = errno;
		goto fail;
	}
	return 0;
 fail:
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

int
cmd_gencert(struct adm *a, int argc, char **argv)
{
	const char	*cn = "localhost", *sdays = NULL, *errstr;
	const char	*keypath = a->conf.tls_key, *certpath = a->conf.tls_cert;
	char		*pos[1], vis[80], ktmp[PATH_MAX], ctmp[PATH_MAX];
	char		 kold[PATH_MAX];
	char		 dir[PATH_MAX], *slash;
	EVP_PKEY	*key = NULL;
	X509		*x = NULL;
	long		 days = 365;
	int		 rv;
	const struct adm_opt opts[] = {
		{ "cn", 1, &cn, NULL },
		{ "days", 1, &sdays, NULL },
	};

	ktmp[0] = ctmp[0] = kold[0] = '\0';
	if ((rv = adm_args(argc, argv, opts, 2, pos, 0, 0,
	    GENCERT_USAGE)) != ADM_OK)
		return rv;
	if (valid_cn(cn) == -1)
		return adm_bad("invalid --cn '%s' (want a host name or "
		    "address)", log_vis(vis, sizeof(vis), cn));
	if (sdays != NULL) {
		days = (long)strtonum(sdays, 1, 36500, &errstr);
		if (errstr != NULL)
			return adm_bad("invalid --days '%s' (want 1..36500)",
			    log_vis(vis, sizeof(vis), sdays));
	}
	if (keypath[0] != '/' || certpath[0] != '/')
		return adm_bad("tls_cert and tls_key must be set to absolute "
		    "paths in %s", a->conf.path);
	if (strcmp(keypath, certpath) == 0)
		return adm_bad("tls_cert and tls_key are the same file");
	(void)strlcpy(dir, keypath, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, MKDIRP_EXACT) == -1)
			return adm_failw("%s", dir);
	}
	(void)strlcpy(dir, certpath, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0755, MKDIRP_EXACT) == -1)
			return adm_failw("%s", dir);
	}
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		rv = ssl_fail("generating an EC P-256 key");
		goto done;
	}
	if ((x = make_cert(key, cn, days)) == NULL) {
		rv = ssl_fail("making the certificate");
		goto done;
	}
	if (write_pem(keypath, 0600, key, NULL, ktmp, sizeof(ktmp)) == -1) {
		rv = adm_failw("%s", ktmp);
		ktmp[0] = '\0';
		goto done;
	}
	if (write_pem(certpath, 0644, NULL, x, ctmp, sizeof(ctmp)) == -1) {
		rv = adm_failw("%s", ctmp);
		ctmp[0] = '\0';
		goto done;
	}
	/* the pair changes together: the old key is kept (a hard link under
	 * a new name of our own) until the new certificate is in place, and
	 * comes back if it cannot be */
	if ((rv = keep_old_key(keypath, kold, sizeof(kold))) != ADM_OK)
		goto done;
	if (rename(ktmp, keypath) == -1) {
		rv = adm_failw("rename %s", keypath);
		goto done;
	}
	ktmp[0] = '\0';
	if (rename(ctmp, certpath) == -1) {
		rv = adm_failw("rename %s", certpath);
		if (kold[0] == '\0')
			(void)unlink(keypath);	/* there was no key before */
		else if (rename(kold, keypath) == -1) {
			adm_warn("the old key is kept as %s", kold);
			kold[0] = '\0';	/* the only copy: keep it */
		} else
			kold[0] = '\0';
		goto done;
	}
	ctmp[0] = '\0';
	rv = ADM_OK;
 done:
	if (ktmp[0] != '\0')
		(void)unlink(ktmp);
	if (ctmp[0] != '\0')
		(void)unlink(ctmp);
	if (kold[0] != '\0')
		(void)unlink(kold);
	X509_free(x);
	EVP_PKEY_free(key);	/* OpenSSL cleanses the private key */
	return rv;
}
