extension Redact {
    /// The words OEM error messages are made of, kept whole by ``Redact/outside(_:)``: whatever is
    /// not here may be a name and keeps its first character only. Grown from the OEM APIs and STAR
    /// faults oemsync meets; a word missing here is only shortened, never shown whole by mistake.
    enum Vocabulary {
        static let english: Set<String> = [
            // Structure
            "a", "an", "the", "and", "or", "not", "no", "is", "are", "was", "were", "be", "been", "has", "have", "had", "of", "to", "in",
            "on", "at", "by", "for", "from", "with", "without", "as", "if", "this", "that", "it", "its", "than", "then", "please", "can",
            "cannot", "could", "must", "should", "may", "will", "would", "do", "does", "did", "done", "per", "after", "before", "while",
            "again", "later", "only", "all", "any", "some", "more", "less", "max", "min", "maximum", "minimum", "yet", "still", "which",
            // Outcomes
            "error", "errors", "err", "fault", "failed", "failure", "fail", "fails", "invalid", "valid", "missing", "required", "unknown",
            "not_found", "found", "exists", "exist", "already", "duplicate", "duplicated", "conflict", "denied", "forbidden", "unauthorized",
            "unauthorised", "authentication", "authorization", "authorisation", "expired", "expire", "revoked", "rejected", "refused",
            "blocked", "locked", "disabled", "suspended", "banned", "allowed", "permitted", "permission", "access", "success", "successful",
            "ok", "accepted", "pending", "processing", "processed", "timeout", "timed", "out", "busy", "unavailable", "available",
            "maintenance", "internal", "server", "service", "system", "gateway", "upstream", "retry", "try", "exceeded", "exceeds", "limit",
            "limits", "quota", "rate", "throttled", "too", "many", "much", "large", "long", "short", "small", "empty", "null", "blank",
            "malformed", "unsupported", "unexpected", "illegal", "incorrect", "wrong", "mismatch", "inconsistent", "unable", "could",
            // Things
            "request", "requests", "response", "parameter", "parameters", "param", "params", "field", "fields", "value", "values", "format",
            "type", "length", "size", "range", "pattern", "code", "codes", "message", "messages", "id", "ids", "key", "token", "signature",
            "timestamp", "nonce", "header", "headers", "body", "payload", "json", "xml", "soap", "http", "https", "api", "url", "uri",
            "path", "query", "page", "offset", "cursor", "version", "resource", "method", "operation", "action", "data", "record", "records",
            "item", "items", "list", "entity", "object", "document", "file", "batch", "date", "time", "day", "days", "hour", "hours",
            "minute", "minutes", "second", "seconds", "number", "numbers", "phone", "mobile", "telephone", "tel", "email", "mail", "address",
            "name", "names", "customer", "customers", "contact", "person", "owner", "buyer", "user", "account", "card", "identity",
            "passport", "license", "licence", "plate", "order", "orders", "sales", "sale", "vehicle", "vehicles", "car", "cars", "vin",
            "model", "color", "colour", "stock", "inventory", "dealer", "dealers", "store", "shop", "region", "brand", "price", "amount",
            "currency", "invoice", "delivery", "status", "state", "credentials", "client", "secret", "password", "scope", "grant",
            "session", "tenant", "partner", "application", "app", "bod", "noun", "verb", "sender", "receiver", "destination",
            // Systems
            "backend", "frontend", "database", "db", "host", "connection", "connections", "network", "certificate", "tls", "ssl", "proxy",
            "downstream", "node", "instance", "cluster", "queue", "cache", "storage", "disk", "memory", "capacity", "overloaded", "load",
            "temporarily", "temporary", "currently", "now", "soon", "shortly", "scheduled", "window", "closed", "open", "down", "up",
            "reset", "closed", "aborted", "cancelled", "canceled", "interrupted", "unreachable", "reachable", "read", "write", "sent",
            "received", "send", "receive", "call", "calls", "attempt", "attempts", "per_second", "second", "daily", "hourly",
            "entitled", "entitlement", "authorized", "authorised", "registered", "subscribed", "subscription", "enabled", "active",
            "inactive", "configured", "supported", "known", "exceeded", "reached", "belongs", "belong", "assigned", "matching", "matches",
            "match", "contains", "contain", "exist", "given", "provided", "expected", "received", "returned", "accepted", "check", "checked",
            "use", "used", "using", "you", "your", "we", "our", "they", "their", "there", "here", "who", "what", "when", "where", "why", "how",
            // The keys of error envelopes
            "msg", "errmsg", "errcode", "error_code", "error_message", "error_description", "errordescription", "detail", "details",
            "reason", "result", "description", "info", "data", "success", "faultcode", "faultstring", "text", "simulated",
        ]

        static let chinese: Set<String> = [
            "客户", "用户", "顾客", "车主", "联系人", "姓名", "名字", "手机", "手机号", "手机号码", "电话", "号码", "身份证", "身份证号", "证件",
            "证件号", "邮箱", "邮件", "地址", "订单", "订单号", "车辆", "车架号", "车型", "颜色", "库存", "经销商", "门店", "品牌", "价格", "金额",
            "发票", "交付", "状态", "错误", "异常", "失败", "成功", "无效", "有效", "不存在", "存在", "已存在", "重复", "缺少", "缺失", "必填",
            "为空", "不能", "不能为空", "格式", "不正确", "错误的", "非法", "参数", "字段", "值", "长度", "超过", "超出", "限制", "频率", "过于频繁",
            "频繁", "请求", "响应", "系统", "服务", "服务器", "繁忙", "维护", "超时", "请稍后", "稍后", "重试", "再试", "未授权", "授权", "无权限",
            "权限", "拒绝", "过期", "已过期", "签名", "令牌", "时间", "日期", "的", "和", "或", "与", "为", "是", "不", "未", "已", "请", "在",
            "中", "内", "数据", "记录", "接口", "版本", "页码", "页", "编码", "代码", "信息", "校验", "验证", "认证", "不匹配", "匹配",
            "暂", "暂时", "暂不可用", "不可用", "可用", "不支持", "支持", "未找到", "找不到", "查询", "结果", "操作", "处理", "处理中", "网关",
            "连接", "网络", "断开", "关闭", "开放", "维护中", "升级", "调用", "次数", "上限", "已达", "达到", "当前", "今日", "每日", "秒", "分钟",
            "小时", "天", "业务", "单据", "商品", "经销商代码", "门店代码", "编号", "车辆识别代码", "唯一", "必须", "应为", "类型", "日期", "数字",
            "字符", "超长", "太长", "过长", "登录", "密码", "账号", "用户名", "密钥", "时间戳", "无法", "服务端", "客户端", "内部", "未知", "其他",
            "重新", "请求过多", "频率过高", "超限", "过载", "忙", "拒绝访问", "禁止", "访问", "库存服务", "订单服务", "模拟",
        ]

        static let longestChinese = chinese.map(\.count).max() ?? 1
    }
}
