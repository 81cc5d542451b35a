<?xml version="1.0" encoding="UTF-8"?>
<!-- vigil-report-1.xsl: turns a vigil report (urn:vigil:report:1) into one readable HTML page.

  XSLT 1.0, no extensions, so any processor works:
    xsltproc -o report.html /usr/share/vigil-1/vigil-report-1.xsl state/report.xml
    python3 -c 'import lxml.etree as e; t=e.XSLT(e.parse("vigil-report-1.xsl"));
                print(t(e.parse("report.xml")))'
  or a browser: add <?xml-stylesheet type="text/xsl" href="vigil-report-1.xsl"?> to a copy of
  the report next to this file. Elements from later versions (other namespaces) are ignored.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:v="urn:vigil:report:1"
                exclude-result-prefixes="v">

  <xsl:output method="html" encoding="UTF-8" indent="yes"
              doctype-system="about:legacy-compat"/>

  <!-- "2026-11-27T03:04:05.123Z" -> "2026-11-27 03:04:05Z" -->
  <xsl:template name="time">
    <xsl:param name="t"/>
    <xsl:if test="$t">
      <xsl:value-of select="concat(substring($t, 1, 10), ' ', substring($t, 12, 8), 'Z')"/>
    </xsl:if>
  </xsl:template>

  <!-- bytes -> "12.3 MiB" -->
  <xsl:template name="bytes">
    <xsl:param name="b"/>
    <xsl:choose>
      <xsl:when test="string($b) = ''"/>
      <xsl:when test="$b &gt;= 1073741824">
        <xsl:value-of select="format-number($b div 1073741824, '0.0')"/> GiB</xsl:when>
      <xsl:when test="$b &gt;= 1048576">
        <xsl:value-of select="format-number($b div 1048576, '0.0')"/> MiB</xsl:when>
      <xsl:when test="$b &gt;= 1024">
        <xsl:value-of select="format-number($b div 1024, '0.0')"/> KiB</xsl:when>
      <xsl:otherwise><xsl:value-of select="$b"/> B</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- seconds -> "3d 4h", "2h 5m", "4m 2s", "9s" -->
  <xsl:template name="duration">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="string($s) = ''"/>
      <xsl:when test="$s &gt;= 86400">
        <xsl:value-of select="concat(floor($s div 86400), 'd ', floor($s mod 86400 div 3600), 'h')"/>
      </xsl:when>
      <xsl:when test="$s &gt;= 3600">
        <xsl:value-of select="concat(floor($s div 3600), 'h ', floor($s mod 3600 div 60), 'm')"/>
      </xsl:when>
      <xsl:when test="$s &gt;= 60">
        <xsl:value-of select="concat(floor($s div 60), 'm ', floor($s mod 60), 's')"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="concat(format-number($s, '0.###'), 's')"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="/v:report">
    <html lang="en">
      <head>
        <title>vigil report — <xsl:value-of select="v:supervisor/v:host"/></title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
          h1 { font-size: 1.4em; margin-bottom: 0.2em; }
          h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
          table { border-collapse: collapse; margin-top: 0.5em; }
          th, td { padding: 0.2em 0.7em; text-align: left; vertical-align: top; }
          th { background: #f0f0f0; font-weight: 600; }
          tr:nth-child(even) td { background: #fafafa; }
          td.num { text-align: right; font-variant-numeric: tabular-nums; }
          code { font-size: 0.92em; word-break: break-all; }
          .meta { color: #666; }
          .s-running, .s-succeeded, .l-healthy { color: #1a7f37; }
          .s-starting, .s-stopping, .s-queued, .s-backoff, .l-degraded, .sev-warning { color: #9a6700; }
          .s-fatal, .s-failed, .s-timeout, .s-killed, .l-unhealthy, .l-critical,
          .sev-critical, .sev-emergency { color: #cf222e; font-weight: 600; }
          .s-stopped, .s-exited, .s-cancelled, .s-unknown { color: #666; }
        </style>
      </head>
      <body>
        <xsl:apply-templates select="v:supervisor"/>
        <xsl:apply-templates select="v:programs"/>
        <xsl:apply-templates select="v:tasks"/>
        <xsl:apply-templates select="v:statistics"/>
      </body>
    </html>
  </xsl:template>

  <!-- ================================ supervisor ================================ -->

  <xsl:template match="v:supervisor">
    <h1>vigil on <xsl:value-of select="v:host"/></h1>
    <p class="meta">
      Report of <xsl:call-template name="time"><xsl:with-param name="t" select="../@generated"/></xsl:call-template>
      — vigild <xsl:value-of select="@version"/> (ABI <xsl:value-of select="@abi"/>),
      pid <xsl:value-of select="@pid"/>
      <xsl:if test="@uptimeSeconds">, up <xsl:call-template name="duration"><xsl:with-param name="s" select="@uptimeSeconds"/></xsl:call-template></xsl:if>
      <xsl:if test="v:stateDir">, state in <code><xsl:value-of select="v:stateDir"/></code></xsl:if>
    </p>
    <h2>Plugins (<xsl:value-of select="count(v:plugins/v:plugin)"/>)</h2>
    <table>
      <tr><th>kind</th><th>section</th><th>version</th><th>ABI</th><th>file</th></tr>
      <xsl:for-each select="v:plugins/v:plugin">
        <tr>
          <td><xsl:value-of select="@kind"/></td>
          <td>
            <xsl:choose>
              <xsl:when test="@section"><xsl:value-of select="@section"/></xsl:when>
              <xsl:otherwise><xsl:value-of select="concat(@kind, '.', @name)"/></xsl:otherwise>
            </xsl:choose>
          </td>
          <td><xsl:value-of select="@version"/></td>
          <td><xsl:value-of select="@abi"/></td>
          <td><code><xsl:value-of select="v:file"/></code></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <!-- ================================ programs ================================ -->

  <xsl:template match="v:programs">
    <h2>Programs (<xsl:value-of select="count(v:program)"/>, <xsl:value-of select="count(v:program/v:instance)"/> instances)</h2>
    <table>
      <tr>
        <th>instance</th><th>state</th><th>pid</th><th>uptime</th><th>restarts</th>
        <th>last exit</th><th>cpu</th><th>rss</th><th>health</th><th>alerts</th>
        <th>priority</th><th>tags</th><th>command</th>
      </tr>
      <xsl:for-each select="v:program/v:instance">
        <tr>
          <td><xsl:value-of select="@name"/></td>
          <td class="s-{@state}"><xsl:value-of select="@state"/></td>
          <td class="num"><xsl:value-of select="@pid"/></td>
          <td class="num"><xsl:call-template name="duration"><xsl:with-param name="s" select="@uptimeSeconds"/></xsl:call-template></td>
          <td class="num"><xsl:value-of select="@restarts"/></td>
          <td>
            <xsl:for-each select="v:lastExit">
              <xsl:if test="@code">code <xsl:value-of select="@code"/></xsl:if>
              <xsl:if test="@signal"> signal <xsl:value-of select="@signal"/></xsl:if>
              <xsl:if test="@reason"> (<xsl:value-of select="@reason"/>)</xsl:if>
            </xsl:for-each>
          </td>
          <td class="num"><xsl:if test="v:metrics/@cpuPercent"><xsl:value-of select="format-number(v:metrics/@cpuPercent, '0.0')"/>%</xsl:if></td>
          <td class="num"><xsl:call-template name="bytes"><xsl:with-param name="b" select="v:metrics/@rssBytes"/></xsl:call-template></td>
          <td class="l-{v:health/@level}">
            <xsl:value-of select="v:health/@score"/>
            <xsl:if test="v:health/@trend"> (<xsl:value-of select="v:health/@trend"/>)</xsl:if>
          </td>
          <td>
            <xsl:for-each select="v:alerts/v:alert">
              <div class="sev-{@severity}"><xsl:value-of select="@id"/>: <xsl:value-of select="."/></div>
            </xsl:for-each>
            <xsl:if test="v:violations/@total &gt; 0">
              <div class="meta"><xsl:value-of select="v:violations/@total"/> violations</div>
            </xsl:if>
          </td>
          <td><xsl:value-of select="../@priority"/></td>
          <td><xsl:for-each select="../v:tags/v:tag"><xsl:if test="position() &gt; 1">, </xsl:if><xsl:value-of select="."/></xsl:for-each></td>
          <td><code><xsl:value-of select="../v:command"/></code></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <!-- ================================== tasks ================================== -->

  <xsl:template match="v:tasks">
    <h2>Tasks (<xsl:value-of select="@count"/><xsl:if test="@truncated = 'true'">, more not shown</xsl:if>)</h2>
    <p class="meta">
      <xsl:choose>
        <xsl:when test="@since">Since <xsl:call-template name="time"><xsl:with-param name="t" select="@since"/></xsl:call-template>.</xsl:when>
        <xsl:otherwise>Everything kept.</xsl:otherwise>
      </xsl:choose>
      <xsl:if test="@history != 'included'"> History from the store: <xsl:value-of select="@history"/>; only the tasks vigild holds are listed.</xsl:if>
    </p>
    <table>
      <tr>
        <th>id</th><th>name</th><th>type</th><th>pool</th><th>state</th><th>priority</th>
        <th>submitted</th><th>duration</th><th>exit</th><th>cpu</th><th>peak rss</th>
        <th>attempts</th><th>command</th>
      </tr>
      <xsl:for-each select="v:task">
        <tr>
          <td><code><xsl:value-of select="@id"/></code></td>
          <td><xsl:value-of select="@name"/></td>
          <td><xsl:value-of select="@type"/></td>
          <td><xsl:value-of select="@pool"/></td>
          <td class="s-{@state}"><xsl:value-of select="@state"/></td>
          <td><xsl:value-of select="@priority"/></td>
          <td>
            <xsl:call-template name="time">
              <xsl:with-param name="t" select="(@submitted | @started[not(../@submitted)])[1]"/>
            </xsl:call-template>
          </td>
          <td class="num"><xsl:if test="@durationMs"><xsl:call-template name="duration"><xsl:with-param name="s" select="@durationMs div 1000"/></xsl:call-template></xsl:if></td>
          <td>
            <xsl:if test="@exitCode"><xsl:value-of select="@exitCode"/></xsl:if>
            <xsl:if test="@signal">signal <xsl:value-of select="@signal"/></xsl:if>
            <xsl:if test="v:error"><xsl:text> </xsl:text><span class="s-failed"><xsl:value-of select="v:error"/></span></xsl:if>
          </td>
          <td class="num"><xsl:if test="@cpuSeconds"><xsl:value-of select="format-number(@cpuSeconds, '0.00')"/>s</xsl:if></td>
          <td class="num"><xsl:call-template name="bytes"><xsl:with-param name="b" select="@peakRssBytes"/></xsl:call-template></td>
          <td class="num"><xsl:value-of select="@attempts"/></td>
          <td><code><xsl:value-of select="v:command"/></code></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <!-- =============================== statistics =============================== -->

  <xsl:template match="v:statistics">
    <h2>Statistics by <xsl:value-of select="@by"/></h2>
    <xsl:choose>
      <xsl:when test="@available = 'false'">
        <p class="meta">The store does not provide statistics.</p>
      </xsl:when>
      <xsl:otherwise>
        <table>
          <tr>
            <th><xsl:value-of select="@by"/></th><th>runs</th><th>ok</th><th>failed</th>
            <th>timeouts</th><th>success</th><th>p50</th><th>p95</th><th>max</th>
            <th>cpu</th><th>peak rss</th>
          </tr>
          <xsl:for-each select="v:group">
            <tr>
              <td><xsl:value-of select="@key"/></td>
              <td class="num"><xsl:value-of select="@runs"/></td>
              <td class="num"><xsl:value-of select="@successes"/></td>
              <td class="num"><xsl:value-of select="@failures"/></td>
              <td class="num"><xsl:value-of select="@timeouts"/></td>
              <td class="num"><xsl:if test="@successRate"><xsl:value-of select="format-number(@successRate * 100, '0.0')"/>%</xsl:if></td>
              <td class="num"><xsl:if test="@p50Ms"><xsl:call-template name="duration"><xsl:with-param name="s" select="@p50Ms div 1000"/></xsl:call-template></xsl:if></td>
              <td class="num"><xsl:if test="@p95Ms"><xsl:call-template name="duration"><xsl:with-param name="s" select="@p95Ms div 1000"/></xsl:call-template></xsl:if></td>
              <td class="num"><xsl:if test="@maxMs"><xsl:call-template name="duration"><xsl:with-param name="s" select="@maxMs div 1000"/></xsl:call-template></xsl:if></td>
              <td class="num"><xsl:if test="@cpuSeconds"><xsl:value-of select="format-number(@cpuSeconds, '0.00')"/>s</xsl:if></td>
              <td class="num"><xsl:call-template name="bytes"><xsl:with-param name="b" select="@peakRssBytes"/></xsl:call-template></td>
            </tr>
          </xsl:for-each>
        </table>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
