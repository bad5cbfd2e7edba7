// The auth policy of SPEC §4: who may open a connection, and which user a request acts for.
//
// Thread-safety: stateless functions (KeyStore is thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "mnemo/result.h"
#include "server/auth/key_store.h"
#include "server/auth/principal.h"

namespace mnemo::server {

// The principal of a Hello.  With an api key: the key's principal (AUTHENTICATION_ERROR when it
// is unknown or revoked).  Without one: the protected-mode service principal when the store has
// no keys and the server listens on a loopback address; AUTHENTICATION_ERROR otherwise.
Result<Principal> Authenticate(KeyStore& keys, std::string_view api_key,
                               bool listening_on_loopback);

// The user a user-scoped request acts for.  A user key acts for its pinned user (an empty
// request user_id means that user; another one is AUTHORIZATION_ERROR).  A service key acts for
// the named user; none named is VALIDATION_ERROR (field user_id).
Result<std::string> ResolveUser(const Principal& principal, std::string_view requested_user_id);

// Admin operations (stats, partitions, backup) need a service principal: AUTHORIZATION_ERROR
// otherwise.
Status RequireService(const Principal& principal, std::string_view operation);

}  // namespace mnemo::server
