// Tests for the route table (routes.h) and the OpenAPI document derived from it.
#include "routes.h"

#include <gtest/gtest.h>

#include <set>

#include "openapi.h"

namespace mnemo::rest {
namespace {

TEST(Routes, FindsLiteralRoutesBeforeIdRoutes) {
  auto lookup = FindRoute("GET", "/api/v1/conversations/search");
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kSearchConversations);
  lookup = FindRoute("GET", "/api/v1/conversations/stats/");
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kConversationStats);
  lookup = FindRoute("GET", "/api/v1/conversations/abc");
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kGetConversation);
  EXPECT_EQ(lookup.path_id, "abc");
  lookup = FindRoute("POST", "/api/v1/documents/search");
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kSearchDocuments);
  lookup = FindRoute("GET", "/api/v1/conversations/x/messages/stats");
  ASSERT_NE(lookup.route, nullptr);
  EXPECT_EQ(lookup.route->id, RouteId::kTokenStats);
}

TEST(Routes, ReportsAllowedMethodsAndUnknownPaths) {
  auto lookup = FindRoute("PUT", "/api/v1/conversations");
  EXPECT_EQ(lookup.route, nullptr);
  EXPECT_EQ(
      std::set<std::string_view>(lookup.allowed_methods.begin(), lookup.allowed_methods.end()),
      (std::set<std::string_view>{"GET", "POST"}));
  lookup = FindRoute("GET", "/api/v1/nothing");
  EXPECT_EQ(lookup.route, nullptr);
  EXPECT_TRUE(lookup.allowed_methods.empty());
  EXPECT_EQ(FindRoute("GET", "/api/v1/conversations//messages").route, nullptr);
  EXPECT_EQ(FindRoute("GET", "").route, nullptr);
  EXPECT_EQ(FindRoute("GET", "api/v1/conversations").route, nullptr);
}

TEST(OpenApi, DocumentsEveryRoute) {
  const nlohmann::json doc = OpenApiDocument();
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const RouteInfo& route : Routes()) {
    std::string method(route.method);
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    ASSERT_TRUE(doc["paths"].contains(std::string(route.pattern))) << route.pattern;
    EXPECT_TRUE(doc["paths"][std::string(route.pattern)].contains(method))
        << route.pattern << " " << method;
  }
}

}  // namespace
}  // namespace mnemo::rest
