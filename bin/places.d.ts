export declare function keepOwnPlace(contents: string, place: string): Promise<string>;
