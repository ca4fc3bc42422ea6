# SPDX-License-Identifier: ISC
# Runs the Homebrew formula's install and test blocks without Homebrew
# (on Linux, for CI): the formula DSL Homebrew provides is modelled here,
# the build is the formula's own meson commands on the `meson dist`
# tarball, and the test block runs against the installed binaries.
#   ruby tests/brew-formula.rb FORMULA TARBALL JSMN_H
# JSMN_H is a local jsmn.h standing in for the download (tests reach only
# loopback): its sha256 must be the one the formula pins.
require "digest"
require "fileutils"
require "pathname"
require "socket"
require "tmpdir"

formula_path, tarball, jsmn_h = ARGV
abort "usage: brew-formula.rb FORMULA TARBALL JSMN_H" unless jsmn_h

# What the formula's build may call on OS.
module OS
  def self.mac?
    false
  end

  def self.linux?
    true
  end
end

# A resource: the formula pins url and sha256; stage checks the local copy.
class Resource
  def initialize(local)
    @local = local
  end

  def url(url = nil)
    @url = url if url
    @url
  end

  def sha256(sum)
    @sha256 = sum
  end

  def stage(dir)
    got = Digest::SHA256.file(@local).hexdigest
    raise "resource #{@url}: sha256 #{got}, formula pins #{@sha256}" if got != @sha256
    raise "resource #{@url}: not #{File.basename(@local)}" if File.basename(@url) != File.basename(@local)

    FileUtils.mkdir_p(dir)
    FileUtils.cp(@local, dir)
  end
end

# The class-level DSL and the instance helpers the formula uses.
class Formula
  class << self
    attr_reader :deps, :resources, :test_block, :spec

    def spec_set(key, val)
      (@spec ||= {})[key] = val
    end

    %w[desc homepage license].each { |m| define_method(m) { |v| spec_set(m, v) } }
    def url(u) = spec_set("url", u)
    def sha256(s) = spec_set("sha256", s)
    def head(u, **) = spec_set("head", u)

    def depends_on(dep)
      (@deps ||= []) << dep
    end

    def on_linux
      yield
    end

    def on_macos; end

    def resource(name, &blk)
      r = Resource.new($jsmn_h)
      r.instance_eval(&blk)
      (@resources ||= {})[name] = r
    end

    def test(&blk)
      @test_block = blk
    end
  end

  attr_reader :prefix, :buildpath, :testpath

  def initialize(prefix, buildpath, testpath)
    @prefix = Pathname(prefix)
    @buildpath = Pathname(buildpath)
    @testpath = Pathname(testpath)
  end

  def bin = prefix/"bin"
  def lib = prefix/"lib"
  def share = prefix/"share"
  def bash_completion = prefix/"etc/bash_completion.d"
  def zsh_completion = share/"zsh/site-functions"

  def version
    self.class.spec["url"][/mcp-bridge-([0-9][^\/]*)\.tar\.xz\z/, 1]
  end

  def resource(name)
    self.class.resources.fetch(name)
  end

  def std_meson_args
    ["--prefix=#{prefix}", "--libdir=#{lib}", "--buildtype=release",
     "--wrap-mode=nofallback"]
  end

  # Homebrew's system: no shell, Pathnames allowed, failure raises.
  def system(cmd, *args)
    ok = Kernel.system(cmd.to_s, *args.map(&:to_s))
    raise "failed: #{cmd} #{args.join(" ")}" unless ok
  end

  def shell_output(cmd, status = 0)
    out = `#{cmd}`
    raise "#{cmd}: exit #{$?.exitstatus}, expected #{status}" if $?.exitstatus != status

    out
  end

  def assert_match(pattern, str)
    ok = pattern.is_a?(Regexp) ? pattern.match?(str.to_s) : str.to_s.include?(pattern)
    raise "assert_match: #{pattern.inspect} not in #{str.inspect}" unless ok
  end

  def free_port
    s = TCPServer.new("127.0.0.1", 0)
    s.addr[1]
  ensure
    s&.close
  end
end

$jsmn_h = File.expand_path(jsmn_h)
load File.expand_path(formula_path)
klass = Formula.subclasses.first || ObjectSpace.each_object(Class).find { |c| c < Formula }
spec = klass.spec
abort "formula: url is not a mcp-bridge-VERSION.tar.xz" unless spec["url"] =~ /mcp-bridge-[^\/]+\.tar\.xz\z/
%w[meson ninja pkgconf curl jansson openssl@3 libmicrohttpd qrencode].each do |d|
  abort "formula: no depends_on #{d}" unless klass.deps.any? { |x| x == d || (x.is_a?(Hash) && x.key?(d)) }
end

Dir.mktmpdir("brew-formula") do |tmp|
  tmp = Pathname(tmp)
  src = tmp/"src"
  src.mkpath
  Kernel.system("tar", "-xJf", tarball, "-C", src.to_s, "--strip-components=1") || abort("tar")
  f = klass.new(tmp/"Cellar/mcp-bridge"/File.basename(tarball, ".tar.xz").sub("mcp-bridge-", ""),
                src, tmp/"test")
  Dir.chdir(src) { f.install }
  puts "installed: #{Dir.glob("#{f.prefix}/**/*").select { |p| File.file?(p) }
                              .map { |p| p.delete_prefix("#{f.prefix}/") }.sort.join(" ")}"
  f.testpath.mkpath
  ENV["HOME"] = f.testpath.to_s # as brew test does
  Dir.chdir(f.testpath) { f.instance_exec(&klass.test_block) }
  puts "test do: ok"
end
