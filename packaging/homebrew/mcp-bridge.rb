# SPDX-License-Identifier: ISC
# Homebrew formula for mcp-bridge, built from the `meson dist` tarball.
# packaging/homebrew/update-formula.sh sets url and sha256 from a tarball
# at release time (tests/packaging.sh checks the version matches
# meson.build). jsmn is a single header that Homebrew does not package: it
# comes as a resource, pinned to the v1.1.0 that Debian's libjsmn-dev has.
class McpBridge < Formula
  desc "Local MCP server that relays IDEs to hosted MCP servers"
  homepage "https://github.com/mcp-bridge/mcp-bridge"
  url "https://github.com/mcp-bridge/mcp-bridge/releases/download/v0.1.0/mcp-bridge-0.1.0.tar.xz"
  sha256 "70ff553a6cef8629849b1deacd2f7a6e10c6c72fc49113007766586a0eaa96fe"
  license "ISC"
  head "https://github.com/mcp-bridge/mcp-bridge.git", branch: "main"

  depends_on "meson" => :build
  depends_on "ninja" => :build
  depends_on "pkgconf" => :build
  depends_on "curl"
  depends_on "jansson"
  depends_on "libmicrohttpd"
  depends_on "openssl@3"
  depends_on "qrencode"

  on_linux do
    depends_on "libsecret"
  end

  resource "jsmn" do
    url "https://raw.githubusercontent.com/zserge/jsmn/v1.1.0/jsmn.h"
    sha256 "1ed6154dedf009212a08a397e9c4ed50a0ce31d5a8301bb294e137ae3188c13b"
  end

  def install
    # meson finds jsmn.h with cc.has_header(): put it on the include path.
    resource("jsmn").stage(buildpath/"jsmn")
    args = %W[
      -Dc_args=-I#{buildpath}/jsmn
      -Dwerror=false
      -Dtests=false
      -Dbench=false
      -Dfuzz=disabled
      -Dqrencode=enabled
      -Dregistryd=enabled
      -Dbashcompletiondir=#{bash_completion}
      -Dzshcompletiondir=#{zsh_completion}
    ]
    # Tokens go to the macOS Keychain (Security.framework); on Linux to
    # the Secret Service.
    args += if OS.mac?
      %w[-Dkeychain=enabled -Dlibsecret=disabled]
    else
      %w[-Dkeychain=disabled -Dlibsecret=enabled]
    end
    system "meson", "setup", "build", *args, *std_meson_args
    system "meson", "compile", "-C", "build", "--verbose"
    system "meson", "install", "-C", "build"
  end

  test do
    assert_match "mcp-bridge #{version}", shell_output("#{bin}/mcp-bridge --version")

    # Configuration checks, as in a repository's CI.
    (testpath/"config.json").write <<~JSON
      {"token_store": "memory",
       "servers": [{"name": "x", "url": "https://mcp.example.com/x/mcp"}]}
    JSON
    system bin/"mcp-bridge", "config", "validate", testpath/"config.json"
    (testpath/"bad.json").write '{"token_store": "nope"}'
    assert_match "token_store: expected one of",
                 shell_output("#{bin}/mcp-bridge config validate #{testpath}/bad.json 2>&1", 2)

    # A real relay: the hosted server is down, so initialize gets a
    # JSON-RPC error with its own id.
    init = '{"jsonrpc":"2.0","id":7,"method":"initialize","params":' \
           '{"protocolVersion":"2025-06-18","capabilities":{},' \
           '"clientInfo":{"name":"brew","version":"1"}}}'
    IO.popen(["#{bin}/mcp-bridge", "run", "--url", "http://127.0.0.1:#{free_port}/mcp"], "r+") do |io|
      io.puts init
      io.flush
      reply = io.gets
      io.close_write
      assert_match(/"id":7,"error":\{"code":-32000/, reply)
    end

    # The IDE entry it writes runs this binary by absolute path.
    assert_match "\"#{bin}/mcp-bridge\"", shell_output("#{bin}/mcp-bridge ide print cursor")

    # The registry's offline check.
    (testpath/"catalog").mkpath
    (testpath/"catalog/x-1.0.0.json").write <<~JSON
      {"name": "com.example.mcp/x", "description": "X", "version": "1.0.0",
       "remotes": [{"type": "streamable-http", "url": "https://mcp.example.com/x/mcp"}]}
    JSON
    (testpath/"policy.json").write '{"default": {"groups": ["*"]}, "servers": {}}'
    assert_match "ok: 1 server versions",
                 shell_output("#{bin}/mcp-registryd --check --catalog #{testpath}/catalog " \
                              "--policy #{testpath}/policy.json")
  end
end
